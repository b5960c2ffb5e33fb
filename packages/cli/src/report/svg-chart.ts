/** A small line chart as inline SVG (no scripts, no external assets), for self-contained reports. */
export interface ChartSeries {
  label: string;
  x: number[];
  y: number[];
  color: string;
}

export function lineChartSvg(title: string, series: ChartSeries[], axes: { xLabel: string; yLabel: string; xMax?: number; yMax?: number; diagonal?: boolean }): string {
  const w = 320;
  const h = 260;
  const pad = { left: 44, right: 12, top: 28, bottom: 40 };
  const xMax = axes.xMax ?? 1;
  const yMax = axes.yMax ?? 1;
  const px = (x: number) => pad.left + (Math.min(x, xMax) / xMax) * (w - pad.left - pad.right);
  const py = (y: number) => h - pad.bottom - (Math.min(y, yMax) / yMax) * (h - pad.top - pad.bottom);
  const ticks = [0, 0.25, 0.5, 0.75, 1];
  const grid = ticks.map((t) => `<line x1="${px(t * xMax)}" y1="${py(0)}" x2="${px(t * xMax)}" y2="${py(yMax)}" stroke="#eee"/><line x1="${px(0)}" y1="${py(t * yMax)}" x2="${px(xMax)}" y2="${py(t * yMax)}" stroke="#eee"/>` +
    `<text x="${px(t * xMax)}" y="${h - pad.bottom + 14}" font-size="10" text-anchor="middle">${+(t * xMax).toFixed(3)}</text>` +
    `<text x="${pad.left - 4}" y="${py(t * yMax) + 3}" font-size="10" text-anchor="end">${+(t * yMax).toFixed(2)}</text>`).join('');
  const lines = series.map((s) => {
    const points = s.x.map((x, i) => `${px(x).toFixed(1)},${py(s.y[i]).toFixed(1)}`).join(' ');
    return `<polyline fill="none" stroke="${s.color}" stroke-width="2" points="${points}"/>`;
  }).join('');
  const legend = series.map((s, i) => `<text x="${pad.left + 6}" y="${pad.top + 12 + i * 13}" font-size="11" fill="${s.color}">${escapeHtml(s.label)}</text>`).join('');
  const diagonal = axes.diagonal ? `<line x1="${px(0)}" y1="${py(0)}" x2="${px(xMax)}" y2="${py(yMax)}" stroke="#bbb" stroke-dasharray="4 3"/>` : '';
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${w}" height="${h}" viewBox="0 0 ${w} ${h}" role="img" aria-label="${escapeHtml(title)}">` +
    `<text x="${w / 2}" y="16" font-size="13" text-anchor="middle" font-weight="bold">${escapeHtml(title)}</text>${grid}${diagonal}` +
    `<rect x="${pad.left}" y="${pad.top}" width="${w - pad.left - pad.right}" height="${h - pad.top - pad.bottom}" fill="none" stroke="#999"/>${lines}${legend}` +
    `<text x="${(pad.left + w - pad.right) / 2}" y="${h - 8}" font-size="11" text-anchor="middle">${escapeHtml(axes.xLabel)}</text>` +
    `<text x="12" y="${(pad.top + h - pad.bottom) / 2}" font-size="11" text-anchor="middle" transform="rotate(-90 12 ${(pad.top + h - pad.bottom) / 2})">${escapeHtml(axes.yLabel)}</text></svg>`;
}

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}
