export const MAX_HEAD_BYTES: number;
export class ResponseParseError extends Error {}
export type ResponseEvent =
  | { type: "continue" }
  | { type: "head"; status: number; statusText: string; rawHeaders: string[] }
  | { type: "data"; bytes: Uint8Array }
  | { type: "end" };
export class ResponseParser {
  constructor(options?: { headRequest?: boolean });
  readonly done: boolean;
  push(chunk: Uint8Array): ResponseEvent[];
  finish(): ResponseEvent[];
}
