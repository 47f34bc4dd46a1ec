export async function runTutorial(_opts: { keep: boolean }): Promise<void> {
  throw new Error("not yet");
}
