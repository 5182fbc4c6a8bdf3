// Copyright (c) Cocoon contributors. Licensed under the MIT License.

global using Native = Cocoon.Interop;
