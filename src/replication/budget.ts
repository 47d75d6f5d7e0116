/**
 * What one replication run may still spend: subrequests (each D1 query, R2 call and fetch to
 * another registry counts one, as Workers counts them against an invocation's limit) and wall
 * time. Pure: the clock is passed in.
 */
export class OperationBudget {
  private spent = 0;

  constructor(
    private readonly limit: number,
    private readonly deadline: number,
    private readonly clock: () => number = Date.now,
  ) {}

  spend(operations: number): void {
    this.spent += operations;
  }

  get used(): number {
    return this.spent;
  }

  get remaining(): number {
    return Math.max(0, this.limit - this.spent);
  }

  /** True once the operations or the time are used up: start nothing new. */
  get exhausted(): boolean {
    return this.spent >= this.limit || this.clock() >= this.deadline;
  }

  /** Whether work expected to cost `operations` still fits. */
  fits(operations: number): boolean {
    return !this.exhausted && operations <= this.remaining;
  }
}
