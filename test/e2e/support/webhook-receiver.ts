/**
 * A webhook receiver for the events tests: a node:http server on 127.0.0.1 that verifies every
 * request's Standard Webhooks signature (`webhook-id`, `webhook-timestamp`, `webhook-signature`)
 * with the secret of the subscription its path belongs to, using the `standardwebhooks`
 * package, and records what it got. A request that fails verification is answered 400 and kept
 * in `invalid`. It can be told to answer 503 (`unavailable`, or the next `failNext` requests),
 * and closed and opened again on the same port (while closed, connections are refused).
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { Webhook } from "standardwebhooks";

/** An EventBridge envelope as the registry sends it (src/events/envelope.ts). */
export interface WebhookEvent {
  version: string;
  id: string;
  "detail-type": string;
  source: string;
  account: string;
  time: string;
  region: string;
  resources: string[];
  detail: Record<string, unknown>;
}

export interface ReceivedRequest {
  path: string;
  webhookId: string;
  webhookTimestamp: string;
  /** The verified event; null when the signature did not verify. */
  event: WebhookEvent | null;
  /** Why verification failed (null when it passed). */
  error: string | null;
  /** The status the receiver answered. */
  answered: number;
  receivedAt: number;
}

export class WebhookReceiver {
  readonly requests: ReceivedRequest[] = [];
  /** Answer every verified request with 503. */
  unavailable = false;
  /** Answer the next N verified requests with 503. */
  failNext = 0;
  private readonly secrets = new Map<string, string>();
  private server: Server | null = null;

  private constructor(public port: number) {}

  /** Starts listening on `port` (0: a free one). */
  static async start(port = 0): Promise<WebhookReceiver> {
    const receiver = new WebhookReceiver(port);
    await receiver.open();
    return receiver;
  }

  /** Starts a receiver and closes it at once: its port refuses connections until `open()`. */
  static async startClosed(): Promise<WebhookReceiver> {
    const receiver = await WebhookReceiver.start();
    await receiver.close();
    return receiver;
  }

  get listening(): boolean {
    return this.server !== null;
  }

  url(path: string): string {
    return `http://127.0.0.1:${this.port}${path}`;
  }

  /** The secret that signs the deliveries to `path` (the subscription's). */
  setSecret(path: string, secret: string): void {
    this.secrets.set(path, secret);
  }

  /** Requests that failed signature verification (on any path). */
  get invalid(): ReceivedRequest[] {
    return this.requests.filter((request) => request.event === null);
  }

  /** Verified requests to `path`. */
  received(path: string): (ReceivedRequest & { event: WebhookEvent })[] {
    return this.requests.filter(
      (request): request is ReceivedRequest & { event: WebhookEvent } =>
        request.path === path && request.event !== null,
    );
  }

  /** Verified requests to `path` answered 2xx: the deliveries the receiver accepted. */
  accepted(path: string): (ReceivedRequest & { event: WebhookEvent })[] {
    return this.received(path).filter((request) => request.answered >= 200 && request.answered < 300);
  }

  /** The events accepted on `path`, one per distinct webhook-id (a receiver's dedupe). */
  distinctEvents(path: string): WebhookEvent[] {
    const byId = new Map<string, WebhookEvent>();
    for (const request of this.accepted(path))
      if (!byId.has(request.webhookId)) byId.set(request.webhookId, request.event);
    return [...byId.values()];
  }

  async open(): Promise<void> {
    if (this.server !== null) return;
    const server = createServer((incoming, outgoing) => {
      this.handle(incoming, outgoing).catch((error: unknown) => {
        if (!outgoing.headersSent) outgoing.writeHead(500);
        outgoing.end(String(error));
      });
    });
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(this.port, "127.0.0.1", () => {
        server.off("error", reject);
        resolve();
      });
    });
    this.port = (server.address() as AddressInfo).port;
    this.server = server;
  }

  /** Stops listening and drops open connections, so the next request is refused. */
  async close(): Promise<void> {
    const server = this.server;
    if (server === null) return;
    this.server = null;
    await new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    });
  }

  private async handle(incoming: IncomingMessage, outgoing: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of incoming) chunks.push(chunk as Buffer);
    const body = Buffer.concat(chunks).toString("utf8");
    const path = new URL(incoming.url ?? "/", "http://receiver").pathname;
    const header = (name: string): string => {
      const value = incoming.headers[name];
      return typeof value === "string" ? value : "";
    };
    const headers = {
      "webhook-id": header("webhook-id"),
      "webhook-timestamp": header("webhook-timestamp"),
      "webhook-signature": header("webhook-signature"),
    };
    const request: ReceivedRequest = {
      path,
      webhookId: headers["webhook-id"],
      webhookTimestamp: headers["webhook-timestamp"],
      event: null,
      error: null,
      answered: 400,
      receivedAt: Date.now(),
    };
    this.requests.push(request);
    const secret = this.secrets.get(path);
    if (secret === undefined) {
      request.error = `no secret for ${path}`;
    } else {
      try {
        request.event = new Webhook(secret).verify(body, headers) as WebhookEvent;
      } catch (error) {
        request.error = error instanceof Error ? error.message : String(error);
      }
    }
    if (request.event === null) {
      outgoing.writeHead(400, { "Content-Type": "text/plain" }).end(`signature not verified: ${request.error}`);
      return;
    }
    if (this.unavailable || this.failNext > 0) {
      if (this.failNext > 0) this.failNext -= 1;
      request.answered = 503;
      outgoing.writeHead(503, { "Content-Type": "text/plain" }).end("unavailable");
      return;
    }
    request.answered = 204;
    outgoing.writeHead(204).end();
  }
}
