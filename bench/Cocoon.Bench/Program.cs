// Copyright (c) Cocoon contributors. Licensed under the MIT License.

return 0;
