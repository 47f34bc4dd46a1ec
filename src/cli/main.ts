/**
 * The `podyard` command. Every failure, of commander's parsing or of a command, ends the
 * same way: one line on stderr (error-line.ts), and the exit code of its kind (exit-codes.ts).
 */
import { Command, CommanderError } from "commander";
import { errorReport, ERROR_PREFIX } from "./error-line.js";
import { EXIT_CODES, EXIT_CODES_HELP, exitCodeFor } from "./exit-codes.js";
import { imageCommands } from "./image/index.js";
import { diffCommand } from "./diff-command.js";
import { registryCommand } from "./registry-command.js";
import { tutorialCommand } from "./tutorial/tutorial-command.js";
import { upCommands } from "./up/up-command.js";

const program = new Command("podyard")
  .description("A single-node Kubernetes: API server, kubelet, image service, OCI runtime driver and an OCI registry")
  .version("0.1.0")
  .option("--debug", "on failure, print the stack trace of the error and its causes (any position)")
  .addHelpText("after", EXIT_CODES_HELP);

program.addCommand(registryCommand());
program.addCommand(tutorialCommand());
program.addCommand(diffCommand());
for (const c of upCommands()) program.addCommand(c);
for (const c of imageCommands()) program.addCommand(c);
reportUsageErrors(program);

/** `--debug` counts wherever it stands before a `--`; commander sees the arguments without it. */
const args = process.argv.slice(2);
const end = args.indexOf("--");
const debugAt = args.findIndex((a, i) => a === "--debug" && (end === -1 || i < end));
const debug = debugAt !== -1;
if (debug) args.splice(debugAt, 1);

try {
  await program.parseAsync(args, { from: "user" });
} catch (err) {
  if (err instanceof CommanderError) {
    // help and version exit as commander says; anything else it refuses is a usage error
    const shown = err.code === "commander.helpDisplayed" || err.code === "commander.version" || err.code === "commander.help";
    process.exit(shown ? err.exitCode : EXIT_CODES.usage);
  }
  process.stderr.write(errorReport(err, debug));
  process.exit(exitCodeFor(err));
}

/**
 * Commander's own errors (unknown option, missing argument, invalid value) for `cmd` and
 * every subcommand: one line with podyard's prefix, pointing at the command's help, and a
 * CommanderError to the catch above instead of an exit from inside commander.
 */
function reportUsageErrors(cmd: Command, path: string[] = []): void {
  const name = [...path, cmd.name()].join(" ");
  cmd.exitOverride().configureOutput({
    outputError: (text, write) => write(`${ERROR_PREFIX}${text.trim().replace(/^error: /, "")} (see '${name} --help')\n`),
  });
  for (const sub of cmd.commands) reportUsageErrors(sub, [...path, cmd.name()]);
}
