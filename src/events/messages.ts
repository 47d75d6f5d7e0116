/**
 * The events queue's messages: "dispatch" (fan out the events not yet fanned out; sent after
 * a write that recorded events, coalescing any number of them) and "deliver" (one attempt of
 * one delivery). Bodies are validated when consumed.
 */

export type EventMessage = { kind: "dispatch" } | { kind: "deliver"; delivery: number };

export function parseEventMessage(body: unknown): EventMessage | null {
  if (typeof body !== "object" || body === null) return null;
  const { kind, delivery } = body as Record<string, unknown>;
  if (kind === "dispatch") return { kind };
  if (kind === "deliver" && typeof delivery === "number" && Number.isSafeInteger(delivery) && delivery > 0)
    return { kind, delivery };
  return null;
}

/**
 * Asks for a fan-out soon. Losing this message loses no event: the every-minute cron fans out
 * whatever is still undispatched (src/events/run.ts).
 */
export async function announceEvents(queue: Queue): Promise<void> {
  try {
    await queue.send({ kind: "dispatch" } satisfies EventMessage);
  } catch (error) {
    console.error("events: the dispatch message was not sent; the cron fans the events out", error);
  }
}
