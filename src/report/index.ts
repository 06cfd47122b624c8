/** Reports: self-contained HTML pages with SVG charts (and PNG copies) about a model on a data set. */
export { buildReport, medianIntervalSeconds, type BuildReportOptions, type FalseAlarmFigures, type ReportData, type WorstCase } from './build.js';
export { renderReport, type RenderedReport } from './html.js';
export { writeChartPngs, writeReport, type WriteReportOptions, type WrittenReport } from './report.js';
export { barChart, confusionChart, escapeXml, histogramChart, lineChart, niceTicks, thinIndices, type HistogramOptions, type LineChartOptions, type LineSeries } from './svg.js';
