import type { CategoryData, TestRecord } from '@thfr/data/node';
import { evaluateLoco, imageAuroc, imageF1Max, imageRocCurve, pixelAuroc, proScore, type LocoTestImage } from '@thfr/metrics';
import type { AnomalyDetector, DetectorPrediction } from '@thfr/detector';
import type { ProgressBar } from './progress.js';

export interface EvaluationMetrics {
  category: string;
  layout: CategoryData['layout'];
  testImages: number;
  anomalousImages: number;
  imageAuroc: number;
  pixelAuroc: number;
  /** PRO integrated to FPR 0.3 (MVTec AD definition). */
  pro: number;
  imageF1Max: { f1: number; threshold: number };
  /** Image AUROC of each defect type against the good images. */
  perDefectImageAuroc: Record<string, number>;
  loco?: {
    sproLogical: number;
    sproStructural: number;
    sproMean: number;
    imageAurocLogical: number;
    imageAurocStructural: number;
    imageAurocMean: number;
  };
  inference: { seconds: number; imagesPerSecond: number };
}

export interface EvaluationCurves {
  roc: { fpr: number[]; tpr: number[] };
  pro: { fpr: number[]; overlap: number[] };
}

export interface Evaluation {
  metrics: EvaluationMetrics;
  curves: EvaluationCurves;
  prediction: DetectorPrediction;
}

/** A binary (0/1) union of an image's masks at map resolution; null for normal images. */
function unionMask(record: TestRecord, pixels: number): Uint8Array | null {
  if (record.label === 0) return null;
  const out = new Uint8Array(pixels);
  for (const mask of record.masks) for (let i = 0; i < pixels; i++) if (mask.data[i] !== 0) out[i] = 1;
  return out;
}

function thin(values: ArrayLike<number>, maxPoints: number): number[] {
  const n = values.length;
  if (n <= maxPoints) return Array.from(values);
  return Array.from({ length: maxPoints }, (_, i) => values[Math.round((i * (n - 1)) / (maxPoints - 1))]);
}

/** Predicts every test image in batches (any method, through the AnomalyDetector contract), with progress. */
export async function predictTestSet(detector: AnomalyDetector, data: CategoryData, progress?: ProgressBar): Promise<{ prediction: DetectorPrediction; seconds: number }> {
  const started = performance.now();
  const prediction = await detector.predict(data.test.map((r) => r.image), { batchSize: detector.batchSize, onProgress: (done, total) => progress?.update(done, total) });
  return { prediction, seconds: (performance.now() - started) / 1000 };
}

/** The official metrics of the category's benchmark from a prediction of its test set. */
export function computeMetrics(data: CategoryData, prediction: DetectorPrediction, seconds: number): Evaluation {
  const size = prediction.size;
  const pixels = size * size;
  const mapSize = { width: size, height: size };
  const labels = data.test.map((r) => r.label);
  const masks = data.test.map((r) => unionMask(r, pixels));
  const pro = proScore(prediction.maps, masks, mapSize, { maxFpr: 0.3 });
  const roc = imageRocCurve(prediction.scores, labels, 200);
  const f1 = imageF1Max(prediction.scores, labels);
  const perDefectImageAuroc: Record<string, number> = {};
  const good = data.test.map((r, i) => (r.label === 0 ? i : -1)).filter((i) => i >= 0);
  for (const defect of new Set(data.test.filter((r) => r.label === 1).map((r) => r.defectType))) {
    const idx = [...good, ...data.test.map((r, i) => (r.defectType === defect ? i : -1)).filter((i) => i >= 0)];
    perDefectImageAuroc[defect] = good.length ? imageAuroc(idx.map((i) => prediction.scores[i]), idx.map((i) => labels[i])) : NaN;
  }
  const metrics: EvaluationMetrics = {
    category: data.name,
    layout: data.layout,
    testImages: data.test.length,
    anomalousImages: labels.filter((l) => l === 1).length,
    imageAuroc: imageAuroc(prediction.scores, labels),
    pixelAuroc: pixelAuroc(prediction.maps, masks, mapSize),
    pro: pro.pro,
    imageF1Max: { f1: f1.f1, threshold: f1.threshold },
    perDefectImageAuroc,
    inference: { seconds, imagesPerSecond: data.test.length / Math.max(seconds, 1e-9) },
  };
  if (data.layout === 'mvtec-loco') {
    if (!data.defectsConfig) throw new Error(`${data.root}: MVTec LOCO category without defects_config.json`);
    const images: LocoTestImage[] = data.test.map((r, i) => ({
      kind: r.label === 0 ? 'good' : (r.anomalyKind ?? 'structural'),
      map: prediction.maps[i],
      masks: r.masks.map((m) => ({ data: m.data })),
      score: prediction.scores[i],
    }));
    const loco = evaluateLoco(images, data.defectsConfig, mapSize, { maxFpr: 0.05 });
    metrics.loco = {
      sproLogical: loco.spro.logical.spro,
      sproStructural: loco.spro.structural.spro,
      sproMean: loco.spro.mean,
      imageAurocLogical: loco.imageAuroc.logical,
      imageAurocStructural: loco.imageAuroc.structural,
      imageAurocMean: loco.imageAuroc.mean,
    };
  }
  return {
    metrics,
    curves: { roc: { fpr: Array.from(roc.fpr), tpr: Array.from(roc.tpr) }, pro: { fpr: thin(pro.fpr, 300), overlap: thin(pro.overlap, 300) } },
    prediction,
  };
}

export function formatMetrics(m: EvaluationMetrics): string[] {
  const pct = (v: number) => (Number.isFinite(v) ? (100 * v).toFixed(1) : 'n/a');
  const lines = [
    `${m.category} (${m.layout}, ${m.testImages} test images, ${m.anomalousImages} anomalous)`,
    `  image AUROC ${pct(m.imageAuroc)}   pixel AUROC ${pct(m.pixelAuroc)}   PRO ${pct(m.pro)}   image F1-max ${pct(m.imageF1Max.f1)}`,
  ];
  if (m.loco) {
    lines.push(`  sPRO logical ${pct(m.loco.sproLogical)}  structural ${pct(m.loco.sproStructural)}  mean ${pct(m.loco.sproMean)}`);
    lines.push(`  image AUROC logical ${pct(m.loco.imageAurocLogical)}  structural ${pct(m.loco.imageAurocStructural)}  mean ${pct(m.loco.imageAurocMean)}`);
  }
  lines.push(`  per defect image AUROC: ${Object.entries(m.perDefectImageAuroc).map(([k, v]) => `${k} ${pct(v)}`).join(', ')}`);
  lines.push(`  inference ${m.inference.imagesPerSecond.toFixed(1)} images/s`);
  return lines;
}
