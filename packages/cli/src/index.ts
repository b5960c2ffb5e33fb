/** @thfr/cli — the `thfr` command line; `runCli(argv)` runs it programmatically. */
export { runCli, COMMANDS, mainHelp } from './cli.js';
export { encodeFloat32Tiff, decodeFloat32Tiff } from './tiff.js';
export { renderHtmlReport } from './report/html-report.js';
export type { ReportInput, ReportCategory } from './report/html-report.js';
export { computeMetrics, predictTestSet, formatMetrics } from './evaluate.js';
export type { Evaluation, EvaluationMetrics, EvaluationCurves } from './evaluate.js';
