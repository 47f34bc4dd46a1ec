/** How Go prints lists of strings in the messages we copy. */

/** Go's `%s` of a []string: `[a b]`. */
export function goList(items: string[]): string {
  return `[${items.join(" ")}]`;
}

/** utilerrors.Aggregate's text: one error as itself, several (duplicates dropped) as `[e1, e2]`. */
export function aggregateMessage(messages: string[]): string {
  if (messages.length === 1) return messages[0] ?? "";
  const unique = [...new Set(messages)];
  return unique.length === 1 ? (unique[0] ?? "") : `[${unique.join(", ")}]`;
}
