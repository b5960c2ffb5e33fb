import { MetricInputError } from './errors.js';

/**
 * Area under the polyline (x, y) for x in [x[0], xMax] by the trapezoid rule, as the MVTec AD
 * evaluation's `trapezoid(x, y, x_max)`: if xMax is not one of the x values, y at xMax is
 * interpolated linearly between its neighbours and the last partial trapezoid added.
 * `x` must be non-decreasing and reach past xMax.
 */
export function trapezoidArea(x: ArrayLike<number>, y: ArrayLike<number>, xMax: number): number {
  const n = x.length;
  if (n !== y.length || n < 2) throw new MetricInputError(`trapezoidArea: needs two arrays of equal length >= 2, got ${n} and ${y.length}`);
  let area = 0;
  let i = 1;
  for (; i < n && x[i] <= xMax; i++) area += 0.5 * (y[i] + y[i - 1]) * (x[i] - x[i - 1]);
  // i is now the insertion index of xMax (bisect right); add the partial trapezoid unless xMax was hit exactly.
  if (x[i - 1] !== xMax) {
    if (i >= n) throw new MetricInputError(`trapezoidArea: the curve ends at x = ${x[n - 1]}, before xMax = ${xMax}`);
    const yAtMax = y[i - 1] + ((y[i] - y[i - 1]) * (xMax - x[i - 1])) / (x[i] - x[i - 1]);
    area += 0.5 * (yAtMax + y[i - 1]) * (xMax - x[i - 1]);
  }
  return area;
}
