/**
 * Labels the 8-connected components of the non-zero pixels of a row-major mask (as
 * scipy.ndimage.label with a 3x3 structure of ones, which the MVTec AD evaluation uses).
 * Writes labels 1..count into `labels` (0 = background) and returns the size of each component
 * (`sizes[k-1]` for label k). `stack` is scratch space of at least width*height entries.
 */
export function labelComponents8(
  mask: Uint8Array,
  width: number,
  height: number,
  labels: Int32Array,
  stack: Int32Array = new Int32Array(width * height),
): number[] {
  labels.fill(0, 0, width * height);
  const sizes: number[] = [];
  for (let start = 0; start < width * height; start++) {
    if (mask[start] === 0 || labels[start] !== 0) continue;
    const label = sizes.length + 1;
    let size = 0;
    let top = 0;
    stack[top++] = start;
    labels[start] = label;
    while (top > 0) {
      const index = stack[--top];
      size++;
      const y = (index / width) | 0;
      const x = index - y * width;
      for (let dy = -1; dy <= 1; dy++) {
        const ny = y + dy;
        if (ny < 0 || ny >= height) continue;
        for (let dx = -1; dx <= 1; dx++) {
          const nx = x + dx;
          if (nx < 0 || nx >= width) continue;
          const neighbour = ny * width + nx;
          if (mask[neighbour] !== 0 && labels[neighbour] === 0) {
            labels[neighbour] = label;
            stack[top++] = neighbour;
          }
        }
      }
    }
    sizes.push(size);
  }
  return sizes;
}
