/** Jest side of the webgl suites: a check reported by a page passes with nothing left behind. */
export interface PageCheck {
  bad: string[];
  leakedTensors: number;
  leakedBytes: number;
  error?: string;
}

export function expectPass(r: PageCheck | undefined): void {
  expect(r).toBeDefined();
  expect(r!.error ?? null).toBeNull();
  expect(r!.bad).toEqual([]);
  expect(r!.leakedTensors).toBe(0);
  expect(r!.leakedBytes).toBe(0);
}
