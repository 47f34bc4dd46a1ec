/**
 * Each `*-command.ts` only declares its command (commander and nothing else); what the
 * command does (its `*-action.ts`, or with-node.ts) is imported when it runs, so start-up
 * does not load every command's code, the image store and the registry client before
 * the arguments are even parsed.
 */
import type { Command } from "commander";
import { fsckCommand } from "./fsck-command.js";
import { historyCommand } from "./history-command.js";
import { imagesCommand } from "./images-command.js";
import { importCommand } from "./import-command.js";
import { inspectCommand } from "./inspect-command.js";
import { loadCommand } from "./load-command.js";
import { loginCommand, logoutCommand } from "./login-command.js";
import { pullCommand } from "./pull-command.js";
import { pushCommand } from "./push-command.js";
import { rmiCommand } from "./rmi-command.js";
import { saveCommand } from "./save-command.js";
import { tagCommand } from "./tag-command.js";

/** docker's image commands. */
export function imageCommands(): Command[] {
  return [pullCommand(), pushCommand(), loginCommand(), logoutCommand(), imagesCommand(), tagCommand(), rmiCommand(), inspectCommand(), historyCommand(), fsckCommand(),
    saveCommand(), loadCommand(), importCommand()];
}
