/* Admin console: time-series charts drawn with the vendored uPlot (/static/vendor/uplot, a classic script that
   defines window.uPlot; no network). Times are shown in UTC, like the buckets the API counts in. */

const HEIGHT = 220;
export const COLORS = ["#2456c7", "#19a06b", "#d9822b", "#b3261e", "#7b4fc9", "#0f8fa8", "#8a8f99", "#c2185b"];

const utcDate = (seconds) => window.uPlot.tzDate(new Date(seconds * 1000), "Etc/UTC");
const pad = (n) => String(n).padStart(2, "0");

/** Time ticks in UTC, 24-hour: "HH:MM" (with the date at midnight) by the hour, "MM-DD" by the day. */
function timeValues(bucket) {
  return (_u, ticks) => ticks.map((t) => {
    const d = new Date(t * 1000);
    const day = `${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())}`;
    if (bucket === "day") return day;
    const clock = `${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}`;
    return d.getUTCHours() === 0 && d.getUTCMinutes() === 0 ? `${clock}\n${day}` : clock;
  });
}

function axisValue(unit) {
  return (_u, ticks) => {
    const step = ticks.length > 1 ? Math.abs(ticks[1] - ticks[0]) : 1;
    const decimals = Math.min(6, Math.max(unit === "usd" ? 2 : 0, Math.ceil(-Math.log10(step || 1))));
    if (unit === "usd") return ticks.map((v) => `$${v.toFixed(decimals)}`);
    if (unit === "s") return ticks.map((v) => `${v.toFixed(decimals)} s`);
    return ticks.map((v) => (Number.isInteger(v) ? String(v) : ""));
  };
}

function seriesOptions(line, index) {
  const uPlot = window.uPlot;
  const stroke = line.color || COLORS[index % COLORS.length];
  const common = { label: line.label, stroke, scale: line.scale || "y", width: 2, spanGaps: false };
  if (line.kind === "bars") {
    return { ...common, fill: `${stroke}cc`, width: 0, paths: uPlot.paths.bars({ size: [0.7, 48], align: 0 }),
      points: { show: false } };
  }
  return { ...common, points: { show: true, size: 5, fill: stroke } };
}

/** Draw `lines` ({label, values, kind: "bars"|"line", scale: "y"|"y2", color}) over the bucket `starts`
    (Date[], one per `bucket`: "hour" | "day") into `box`; `units` = {y, y2} ("count", "s" or "usd").
    Returns {destroy()}. */
export function drawChart(box, starts, bucket, lines, units) {
  const uPlot = window.uPlot;
  if (typeof uPlot !== "function") throw new Error("The chart library did not load (/static/vendor/uplot).");
  const x = starts.map((d) => d.getTime() / 1000);
  const step = x.length > 1 ? x[1] - x[0] : 3600;
  const right = lines.some((l) => l.scale === "y2");
  const opts = {
    width: Math.max(box.clientWidth, 280),
    height: HEIGHT,
    tzDate: utcDate,
    legend: { live: false },
    cursor: { drag: { x: false, y: false } },
    scales: {
      x: { time: true, range: [x[0] - step / 2, x[x.length - 1] + step / 2] },
      y: { range: (_u, _min, max) => [0, niceMax(max, units.y)] },
      y2: { range: (_u, _min, max) => [0, niceMax(max, units.y2)] },
    },
    axes: [
      { stroke: "#5b6577", grid: { stroke: "#eef1f5" }, values: timeValues(bucket), size: 44 },
      { stroke: "#5b6577", grid: { stroke: "#eef1f5" }, values: axisValue(units.y), size: 56 },
      ...(right ? [{ side: 1, scale: "y2", stroke: "#5b6577", grid: { show: false }, values: axisValue(units.y2), size: 64 }] : []),
    ],
    series: [{ label: "UTC" }, ...lines.map(seriesOptions)],
  };
  const chart = new uPlot(opts, [x, ...lines.map((l) => l.values)], box);
  const resized = new ResizeObserver(() => { if (box.clientWidth) chart.setSize({ width: box.clientWidth, height: HEIGHT }); });
  resized.observe(box);
  return { destroy() { resized.disconnect(); chart.destroy(); } };
}

function niceMax(max, unit) {
  if (max === null || max === undefined || !Number.isFinite(max) || max <= 0) return unit === "count" ? 1 : 0.01;
  if (unit === "count") return Math.max(1, Math.ceil(max * 1.15));
  return max * 1.15;
}
