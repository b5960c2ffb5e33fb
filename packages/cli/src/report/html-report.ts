import { encodePng, type RgbImage } from '@thfr/data';
import { renderHeatmap } from '@thfr/postprocess';
import type { TestRecord } from '@thfr/data/node';
import type { Evaluation } from '../evaluate.js';
import { escapeHtml, lineChartSvg } from './svg-chart.js';

export interface ReportCategory {
  evaluation: Evaluation;
  test: TestRecord[];
  /** Training facts shown beside the metrics. */
  training?: { seconds: number; epochs: number; images: number; finalLoss: number; backend: string };
  modelDir?: string;
}

export interface ReportInput {
  title: string;
  createdAt: string;
  command: string;
  backbone: string;
  categories: ReportCategory[];
}

const pct = (v: number | undefined) => (v === undefined || !Number.isFinite(v) ? 'n/a' : (100 * v).toFixed(1));

function pngDataUrl(image: { width: number; height: number; data: Uint8Array | Uint8ClampedArray }, channels: 1 | 3 | 4): string {
  const bytes = encodePng({ width: image.width, height: image.height, data: image.data instanceof Uint8Array ? image.data : new Uint8Array(image.data.buffer), channels });
  return `data:image/png;base64,${Buffer.from(bytes).toString('base64')}`;
}

function maskImage(record: TestRecord, size: number): { width: number; height: number; data: Uint8Array } {
  const data = new Uint8Array(size * size);
  for (const mask of record.masks) for (let i = 0; i < data.length; i++) if (mask.data[i]) data[i] = 255;
  return { width: size, height: size, data };
}

function imageCards(category: ReportCategory, indices: number[], range: [number, number]): string {
  const { prediction } = category.evaluation;
  const size = prediction.size;
  return indices.map((i) => {
    const record = category.test[i];
    const image = record.image as RgbImage;
    const overlay = renderHeatmap(prediction.maps[i], size, size, { image, alpha: 0.5, range });
    return `<figure><div class="row"><img src="${pngDataUrl(image, 3)}" alt="input"/><img src="${pngDataUrl({ width: size, height: size, data: overlay }, 4)}" alt="heatmap"/>` +
      `<img src="${pngDataUrl(maskImage(record, size), 1)}" alt="ground truth"/></div>` +
      `<figcaption>${escapeHtml(record.relativePath)} — ${escapeHtml(record.defectType)}, score ${prediction.scores[i].toFixed(4)}</figcaption></figure>`;
  }).join('\n');
}

function categorySection(category: ReportCategory): string {
  const { metrics: m, curves, prediction } = category.evaluation;
  let lo = Infinity;
  let hi = -Infinity;
  for (const map of prediction.maps) for (let i = 0; i < map.length; i++) { lo = Math.min(lo, map[i]); hi = Math.max(hi, map[i]); }
  const order = Array.from(prediction.scores.keys());
  const anomalous = order.filter((i) => category.test[i].label === 1).sort((a, b) => prediction.scores[b] - prediction.scores[a]);
  const normal = order.filter((i) => category.test[i].label === 0).sort((a, b) => prediction.scores[b] - prediction.scores[a]);
  const rows: Array<[string, string]> = [
    ['Image AUROC', pct(m.imageAuroc)], ['Pixel AUROC', pct(m.pixelAuroc)], ['PRO (FPR ≤ 0.3)', pct(m.pro)], ['Image F1-max', pct(m.imageF1Max.f1)],
  ];
  if (m.loco) {
    rows.push(['sPRO logical / structural / mean', `${pct(m.loco.sproLogical)} / ${pct(m.loco.sproStructural)} / ${pct(m.loco.sproMean)}`]);
    rows.push(['Image AUROC logical / structural / mean', `${pct(m.loco.imageAurocLogical)} / ${pct(m.loco.imageAurocStructural)} / ${pct(m.loco.imageAurocMean)}`]);
  }
  for (const [defect, auroc] of Object.entries(m.perDefectImageAuroc)) rows.push([`Image AUROC: ${defect} vs good`, pct(auroc)]);
  rows.push(['Inference', `${m.inference.imagesPerSecond.toFixed(1)} images/s`]);
  if (category.training) {
    const t = category.training;
    rows.push(['Training', `${t.images} images, ${t.epochs} epochs, ${t.seconds.toFixed(0)} s on ${escapeHtml(t.backend)}, final loss ${t.finalLoss.toFixed(4)}`]);
  }
  const roc = lineChartSvg('Image ROC', [{ label: `AUROC ${pct(m.imageAuroc)}`, x: curves.roc.fpr, y: curves.roc.tpr, color: '#1f77b4' }], { xLabel: 'false positive rate', yLabel: 'true positive rate', diagonal: true });
  const pro = lineChartSvg('PRO curve', [{ label: `PRO ${pct(m.pro)}`, x: curves.pro.fpr, y: curves.pro.overlap, color: '#d62728' }], { xLabel: 'false positive rate (all normal pixels)', yLabel: 'per-region overlap', xMax: 0.3 });
  return `<section><h2>${escapeHtml(m.category)} <small>${escapeHtml(m.layout)}, ${m.testImages} test images (${m.anomalousImages} anomalous)</small></h2>
<div class="row"><table>${rows.map(([k, v]) => `<tr><th>${escapeHtml(k)}</th><td>${v}</td></tr>`).join('')}</table>${roc}${pro}</div>
<h3>Best detections (highest-scored anomalies)</h3><div class="grid">${imageCards(category, anomalous.slice(0, 3), [lo, hi])}</div>
<h3>Worst: missed anomalies (lowest-scored)</h3><div class="grid">${imageCards(category, anomalous.slice(-3).reverse(), [lo, hi])}</div>
<h3>Worst: false alarms (highest-scored normal images)</h3><div class="grid">${imageCards(category, normal.slice(0, 3), [lo, hi])}</div>
<p class="note">Heatmaps share one colour range per category [${lo.toFixed(3)}, ${hi.toFixed(3)}] (turbo). Each card: input, heatmap overlay, ground truth.</p></section>`;
}

/** A self-contained HTML page (inline CSS, SVG charts, images as data URLs): opens from disk, no server. */
export function renderHtmlReport(input: ReportInput): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${escapeHtml(input.title)}</title>
<style>
body{font-family:system-ui,sans-serif;margin:24px;color:#222;max-width:1200px}
h1{margin-bottom:4px}h2 small{font-weight:normal;color:#666;font-size:60%}
table{border-collapse:collapse;margin-right:16px}th,td{padding:3px 10px;border-bottom:1px solid #eee;text-align:left;font-size:14px}
.row{display:flex;flex-wrap:wrap;gap:8px;align-items:flex-start}.grid{display:flex;flex-wrap:wrap;gap:14px}
figure{margin:0}figure img{width:128px;height:128px;image-rendering:pixelated;border:1px solid #ccc}
figcaption{font-size:12px;color:#444;max-width:400px}.note{color:#666;font-size:12px}section{margin-top:28px}
</style></head><body>
<h1>${escapeHtml(input.title)}</h1>
<p class="note">${escapeHtml(input.createdAt)} · backbone ${escapeHtml(input.backbone)} · <code>${escapeHtml(input.command)}</code></p>
${input.categories.map(categorySection).join('\n')}
</body></html>
`;
}
