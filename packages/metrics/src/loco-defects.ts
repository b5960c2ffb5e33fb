import { MetricInputError } from './errors.js';

/** One entry of MVTec LOCO AD's defects_config.json (keys spelled as in the file). */
export interface LocoDefectConfig {
  defect_name: string;
  pixel_value: number;
  saturation_threshold: number;
  relative_saturation: boolean;
}

/** Validates the parsed content of a defects_config.json. */
export function parseDefectsConfig(json: unknown, what = 'defects_config.json'): LocoDefectConfig[] {
  if (!Array.isArray(json) || json.length === 0) throw new MetricInputError(`${what}: expected a non-empty array of defect entries`);
  const seenValues = new Set<number>();
  return json.map((entry, i) => {
    const e = entry as Partial<LocoDefectConfig> | null;
    if (
      e == null ||
      typeof e.defect_name !== 'string' ||
      !Number.isInteger(e.pixel_value) ||
      (e.pixel_value as number) <= 0 ||
      (e.pixel_value as number) > 255 ||
      typeof e.saturation_threshold !== 'number' ||
      !(e.saturation_threshold > 0) ||
      typeof e.relative_saturation !== 'boolean'
    ) {
      throw new MetricInputError(
        `${what}[${i}]: expected {defect_name: string, pixel_value: 1..255, saturation_threshold: > 0, relative_saturation: boolean}, got ${JSON.stringify(entry)}`,
      );
    }
    if (seenValues.has(e.pixel_value as number)) throw new MetricInputError(`${what}[${i}]: pixel_value ${e.pixel_value} is used by two defects`);
    seenValues.add(e.pixel_value as number);
    return { defect_name: e.defect_name, pixel_value: e.pixel_value as number, saturation_threshold: e.saturation_threshold, relative_saturation: e.relative_saturation };
  });
}

/**
 * Saturation area of one defect mask: relative -> int(threshold * area), else min(threshold, area),
 * as the MVTec LOCO evaluation defines it. Raised to at least 1 pixel so that sPRO stays defined for
 * degenerate (tiny) defects.
 */
export function saturationArea(defect: LocoDefectConfig, area: number): number {
  const raw = defect.relative_saturation ? Math.trunc(defect.saturation_threshold * area) : Math.min(defect.saturation_threshold, area);
  return Math.max(1, raw);
}
