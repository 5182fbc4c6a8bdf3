// Copyright (c) Cocoon contributors. Licensed under the MIT License.

using Cocoon.Cli;

return CocoonCli.Run(args, CliContext.FromEnvironment());
