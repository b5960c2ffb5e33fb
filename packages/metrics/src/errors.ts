/** Thrown for metric inputs that are empty, mis-sized, non-finite or otherwise unusable. */
export class MetricInputError extends Error {
  override readonly name = 'MetricInputError';
}
