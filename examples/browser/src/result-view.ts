// Shows one prediction: overlay canvas, raw and normalised image score, verdict and the threshold
// slider. The slider works in raw score units (the map and the image score share them: the image
// score is the map's maximum), so "image anomalous" means "some pixel above the threshold". A map
// standardized per position (the default model's) holds negative values too, so the slider starts
// at the lower of 0 and the map's minimum.
import type { NormalStatistics } from '@thfr/model';
import type { PredictionMessage } from './worker-protocol.js';
import { mapRange, renderOverlay } from './overlay-renderer.js';
import { byId } from './dom.js';

const SLIDER_STEPS = 1000;

export class ResultView {
  private result?: PredictionMessage;
  private readonly slider = byId<HTMLInputElement>('threshold');
  private readonly canvas = byId<HTMLCanvasElement>('overlay');
  private threshold: number;

  constructor(private readonly stats: NormalStatistics | undefined) {
    this.threshold = stats?.threshold ?? Number.NaN;
    this.slider.max = String(SLIDER_STEPS);
    this.slider.addEventListener('input', () => {
      const [bottom, step] = this.sliderScale();
      this.threshold = bottom + step * Number(this.slider.value);
      this.redraw();
    });
    byId('threshold-reset').addEventListener('click', () => {
      if (this.stats) this.threshold = this.stats.threshold;
      this.redraw();
    });
    byId('calibrated-threshold').textContent = stats ? stats.threshold.toFixed(4) : 'none (uncalibrated model)';
    byId<HTMLButtonElement>('threshold-reset').disabled = !stats;
  }

  show(result: PredictionMessage): void {
    this.result = result;
    // Without calibration, start at the middle of this map's range.
    if (Number.isNaN(this.threshold)) {
      const [lo, hi] = mapRange(result.map);
      this.threshold = (lo + hi) / 2;
    }
    byId('result').hidden = false;
    byId('image-name').textContent = result.name;
    byId('score-raw').textContent = result.score.toFixed(4);
    byId('score-normalized').textContent = result.normalizedScore == null ? 'n/a' : result.normalizedScore.toFixed(3);
    byId('timing').textContent = `inference ${result.timings.inferenceMs.toFixed(0)} ms, decoding ${result.timings.decodeMs.toFixed(0)} ms`;
    byId('template').textContent = result.templateIndex >= 0 ? `template #${result.templateIndex}` : 'no template';
    this.redraw();
  }

  /** Removes the shown result (after an image failed to decode or score, so no stale result stays on screen). */
  clear(): void {
    this.result = undefined;
    byId('result').hidden = true;
    for (const id of ['image-name', 'score-raw', 'score-normalized', 'timing', 'template', 'verdict', 'pixels-above']) byId(id).textContent = '';
    this.canvas.getContext('2d')?.clearRect(0, 0, this.canvas.width, this.canvas.height);
    if (!this.stats) this.threshold = Number.NaN; // an uncalibrated threshold followed the cleared image
  }

  /**
   * The slider's bottom and raw score per step: it spans 0 (or, for a map with negative values, one step below
   * its minimum, so that every pixel is above the slider's bottom) .. max(2 x calibrated threshold, 1.2 x this
   * image's score).
   */
  private sliderScale(): [number, number] {
    const lowest = this.result ? mapRange(this.result.map)[0] : 0;
    const top = Math.max(2 * (this.stats?.threshold ?? 0), 1.2 * (this.result?.score ?? 0), Number.isFinite(this.threshold) ? 1.2 * this.threshold : 0, 1e-6);
    if (lowest >= 0) return [0, top / SLIDER_STEPS];
    const step = (top - lowest) / (SLIDER_STEPS - 1);
    return [lowest - step, step];
  }

  private redraw(): void {
    const result = this.result;
    const [bottom, step] = this.sliderScale();
    this.slider.value = String(Math.round((this.threshold - bottom) / step));
    byId('threshold-value').textContent = Number.isFinite(this.threshold) ? this.threshold.toFixed(4) : '-';
    if (!result) return;
    const [lo, hi] = mapRange(result.map);
    // The top of the colour scale never sits below the calibrated threshold, so a normal image stays cool.
    const range: [number, number] = [lo, Math.max(hi, this.stats?.threshold ?? hi)];
    const { rgba, pixelsAbove } = renderOverlay({ map: result.map, size: result.size, image: result.image, range, threshold: this.threshold, alpha: 0.5 });
    this.canvas.width = result.size;
    this.canvas.height = result.size;
    this.canvas.getContext('2d')!.putImageData(new ImageData(rgba as Uint8ClampedArray<ArrayBuffer>, result.size, result.size), 0, 0);
    const anomalous = result.score > this.threshold;
    const verdict = byId('verdict');
    verdict.textContent = anomalous ? 'anomalous' : 'normal';
    verdict.className = anomalous ? 'verdict anomalous' : 'verdict normal';
    byId('pixels-above').textContent = `${((100 * pixelsAbove) / result.map.length).toFixed(2)}% of pixels above the threshold`;
  }
}
