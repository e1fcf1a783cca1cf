import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chiSquareTest, gammaP, gammaQ, logGamma } from '../../src/simulate/stats.js';

const close = (a: number, b: number, tol: number, what: string) => assert.ok(Math.abs(a - b) <= tol, `${what}: ${a} vs ${b}`);

test('logGamma matches factorials', () => {
  close(logGamma(1), 0, 1e-12, 'Γ(1)');
  close(logGamma(5), Math.log(24), 1e-12, 'Γ(5)');
  close(logGamma(0.5), Math.log(Math.sqrt(Math.PI)), 1e-12, 'Γ(1/2)');
  close(logGamma(101), 363.73937555556347, 1e-9, 'Γ(101)');
});

test('incomplete gamma: P + Q = 1 and known values', () => {
  for (const [a, x] of [[0.5, 0.1], [1, 2], [3, 10], [50, 45], [2.5, 0]]) close(gammaP(a!, x!) + gammaQ(a!, x!), 1, 1e-12, `a=${a} x=${x}`);
  close(gammaP(1, 2), 1 - Math.exp(-2), 1e-12, 'P(1,x) = 1 - e^-x');
});

test('chi-square p-values at the textbook critical values', () => {
  // Critical values at p = 0.05 for df = 1, 2, 10 and p = 0.01 for df = 1.
  close(chiSquareTest([0, 0], [1, 1]).pValue!, gammaQ(0.5, 1), 1e-12, 'statistic 2 with df 1');
  const p = (stat: number, df: number) => gammaQ(df / 2, stat / 2);
  close(p(3.841458820694124, 1), 0.05, 1e-9, 'df 1');
  close(p(5.991464547107979, 2), 0.05, 1e-9, 'df 2');
  close(p(18.307038053275146, 10), 0.05, 1e-9, 'df 10');
  close(p(6.6348966010212145, 1), 0.01, 1e-9, 'df 1, 1%');
});

test('chiSquareTest: perfect fit, poor fit, impossible observation', () => {
  const perfect = chiSquareTest([100, 200], [100, 200]);
  assert.equal(perfect.statistic, 0);
  assert.equal(perfect.pValue, 1);
  const poor = chiSquareTest([150, 150], [100, 200]);
  close(poor.statistic, 37.5, 1e-9, 'statistic');
  assert.ok(poor.pValue! < 1e-8);
  assert.equal(chiSquareTest([1, 5], [0, 6]).pValue, 0, 'observed where nothing was expected');
  assert.equal(chiSquareTest([5, 0], [5, 0]).pValue, undefined, 'one cell: no degrees of freedom');
});
