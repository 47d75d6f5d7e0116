import { describe, expect, it } from "vitest";
import { OperationBudget } from "./budget";

describe("OperationBudget", () => {
  it("counts what is spent against the limit", () => {
    const budget = new OperationBudget(10, Number.MAX_SAFE_INTEGER);
    expect(budget.fits(10)).toBe(true);
    budget.spend(4);
    expect([budget.used, budget.remaining, budget.exhausted]).toEqual([4, 6, false]);
    expect(budget.fits(6)).toBe(true);
    expect(budget.fits(7)).toBe(false);
    budget.spend(6);
    expect(budget.exhausted).toBe(true);
    expect(budget.fits(0)).toBe(false);
    budget.spend(5);
    expect(budget.remaining).toBe(0);
  });

  it("is exhausted at the deadline whatever is left to spend", () => {
    let now = 100;
    const budget = new OperationBudget(1000, 200, () => now);
    expect(budget.exhausted).toBe(false);
    now = 200;
    expect(budget.exhausted).toBe(true);
    expect(budget.fits(1)).toBe(false);
  });
});
