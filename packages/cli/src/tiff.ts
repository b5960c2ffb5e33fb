/**
 * A minimal baseline TIFF writer for one-channel float32 images: the anomaly-map format the official
 * MVTec LOCO AD evaluation reads (tifffile / PIL open it as a float32 array). Little-endian,
 * uncompressed, one strip.
 */
export function encodeFloat32Tiff(width: number, height: number, values: Float32Array): Uint8Array {
  if (values.length !== width * height) throw new Error(`encodeFloat32Tiff: ${values.length} values for a ${width}x${height} image`);
  const entries: Array<[tag: number, type: number, count: number, value: number]> = [];
  const SHORT = 3;
  const LONG = 4;
  const headerBytes = 8;
  const entryCount = 10;
  const ifdBytes = 2 + entryCount * 12 + 4;
  const dataOffset = headerBytes + ifdBytes;
  entries.push([256, LONG, 1, width]); // ImageWidth
  entries.push([257, LONG, 1, height]); // ImageLength
  entries.push([258, SHORT, 1, 32]); // BitsPerSample
  entries.push([259, SHORT, 1, 1]); // Compression: none
  entries.push([262, SHORT, 1, 1]); // PhotometricInterpretation: BlackIsZero
  entries.push([273, LONG, 1, dataOffset]); // StripOffsets
  entries.push([277, SHORT, 1, 1]); // SamplesPerPixel
  entries.push([278, LONG, 1, height]); // RowsPerStrip
  entries.push([279, LONG, 1, width * height * 4]); // StripByteCounts
  entries.push([339, SHORT, 1, 3]); // SampleFormat: IEEE float
  const bytes = new Uint8Array(dataOffset + width * height * 4);
  const view = new DataView(bytes.buffer);
  view.setUint8(0, 0x49);
  view.setUint8(1, 0x49); // "II": little-endian
  view.setUint16(2, 42, true);
  view.setUint32(4, headerBytes, true);
  view.setUint16(headerBytes, entryCount, true);
  entries.forEach(([tag, type, count, value], i) => {
    const at = headerBytes + 2 + i * 12;
    view.setUint16(at, tag, true);
    view.setUint16(at + 2, type, true);
    view.setUint32(at + 4, count, true);
    if (type === SHORT) view.setUint16(at + 8, value, true);
    else view.setUint32(at + 8, value, true);
  });
  view.setUint32(headerBytes + 2 + entryCount * 12, 0, true); // no next IFD
  for (let i = 0; i < values.length; i++) view.setFloat32(dataOffset + i * 4, values[i], true);
  return bytes;
}

/** Reads back what encodeFloat32Tiff writes (used by tests and by `thfr eval --maps`). */
export function decodeFloat32Tiff(bytes: Uint8Array, name = 'TIFF'): { width: number; height: number; data: Float32Array } {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (bytes.length < 8 || view.getUint16(0, false) !== 0x4949 || view.getUint16(2, true) !== 42) throw new Error(`${name}: not a little-endian TIFF`);
  const ifd = view.getUint32(4, true);
  const count = view.getUint16(ifd, true);
  const tags = new Map<number, number>();
  for (let i = 0; i < count; i++) {
    const at = ifd + 2 + i * 12;
    const type = view.getUint16(at + 2, true);
    tags.set(view.getUint16(at, true), type === 3 ? view.getUint16(at + 8, true) : view.getUint32(at + 8, true));
  }
  const width = tags.get(256)!;
  const height = tags.get(257)!;
  if (tags.get(258) !== 32 || tags.get(339) !== 3 || (tags.get(259) ?? 1) !== 1) throw new Error(`${name}: expected an uncompressed float32 TIFF`);
  const offset = tags.get(273)!;
  if (offset + width * height * 4 > bytes.length) throw new Error(`${name} is truncated`);
  const data = new Float32Array(width * height);
  for (let i = 0; i < data.length; i++) data[i] = view.getFloat32(offset + i * 4, true);
  return { width, height, data };
}
