// The few platform APIs the core uses that exist in both Node and browsers (WHATWG Encoding).
// Declared here so the core typechecks without Node's or the DOM's type libraries.
declare class TextEncoder {
  encode(input?: string): Uint8Array;
}
declare class TextDecoder {
  constructor(label?: string, options?: { fatal?: boolean });
  decode(input?: Uint8Array): string;
}
