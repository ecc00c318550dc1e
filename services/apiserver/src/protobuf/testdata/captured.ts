/** One request body recorded from a real kubectl (see capture-kubectl.ts). */
export interface CapturedRequest {
  /** Fixture name, e.g. "deployment". */
  name: string;
  /** The kubectl command line that sent it. */
  command: string;
  note?: string;
  method: string;
  path: string;
  contentType: string;
  /** base64 of the exact request body. */
  body: string;
}
