/** The `podyard` command. */
import { Command, CommanderError } from "commander";
import { imageCommands } from "./image/index.js";
import { registryCommand } from "./registry-command.js";
import { tutorialCommand } from "./tutorial/tutorial-command.js";

const program = new Command("podyard")
  .description("A single-node Kubernetes: API server, kubelet, image service, OCI runtime driver and an OCI registry")
  .version("0.1.0")
  .showHelpAfterError()
  .exitOverride();

program.addCommand(registryCommand());
program.addCommand(tutorialCommand());
for (const c of imageCommands()) program.addCommand(c);

try {
  await program.parseAsync(process.argv);
} catch (err) {
  if (err instanceof CommanderError) process.exit(err.exitCode);
  process.stderr.write(`podyard: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
}
