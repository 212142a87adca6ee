// Reads a multipart/form-data body with the platform's own parser (undici's FormData, as fetch uses):
// the emulators take file uploads (Stripe's /v1/files, PayPal's evidence documents) this way.

export interface MultipartBody {
  fields: Record<string, string>;
  files: { field: string; filename: string; bytes: Uint8Array }[];
}

/** Upload limit of the emulators' multipart parsers: a little above the providers' 5 MB per file. */
export const MULTIPART_BODY_LIMIT = 12 * 1024 * 1024;

export async function readMultipart(body: Buffer, contentType: string): Promise<MultipartBody> {
  const form = await new Response(body, { headers: { 'content-type': contentType } }).formData();
  const fields: Record<string, string> = {};
  const files: MultipartBody['files'] = [];
  for (const [field, value] of form.entries()) {
    if (typeof value === 'string') fields[field] = value;
    else files.push({ field, filename: value.name, bytes: new Uint8Array(await value.arrayBuffer()) });
  }
  return { fields, files };
}
