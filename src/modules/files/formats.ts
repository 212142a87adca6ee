// The file formats card networks take as dispute evidence, told apart by their first bytes (a renamed
// text file is not a PDF). Shared by the service's uploads and the Stripe emulator's.

const SIGNATURES: { type: string; mime: string; magic: number[] }[] = [
  { type: 'pdf', mime: 'application/pdf', magic: [0x25, 0x50, 0x44, 0x46, 0x2d] },
  { type: 'png', mime: 'image/png', magic: [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a] },
  { type: 'jpg', mime: 'image/jpeg', magic: [0xff, 0xd8, 0xff] },
];

/** pdf, png or jpg; undefined for anything else. */
export function fileTypeOf(bytes: Uint8Array): string | undefined {
  return SIGNATURES.find((sig) => sig.magic.every((byte, i) => bytes[i] === byte))?.type;
}

export const mimeOf = (type: string) =>
  SIGNATURES.find((sig) => sig.type === type)?.mime ?? 'application/octet-stream';
