import { describe, expect, it } from "vitest";
import { BoundedMap } from "./bounded-map";

function clock(start = 1_000) {
  const c = { t: start, now: () => c.t };
  return c;
}

describe("BoundedMap", () => {
  it("never holds more than maxEntries, whatever is stored", () => {
    const map = new BoundedMap<string, number>(100);
    for (let i = 0; i < 10_000; i++) {
      map.set(`token-${i}`, i);
      expect(map.size).toBeLessThanOrEqual(100);
    }
    expect(map.size).toBe(100);
    // The newest entries are the ones kept.
    expect(map.get("token-9999")).toBe(9_999);
    expect(map.get("token-9900")).toBe(9_900);
    expect(map.get("token-9899")).toBeUndefined();
  });

  it("drops the least recently used entry first", () => {
    const map = new BoundedMap<string, string>(2);
    map.set("a", "A").set("b", "B");
    expect(map.get("a")).toBe("A"); // a is now more recent than b
    map.set("c", "C");
    expect(map.get("b")).toBeUndefined();
    expect(map.get("a")).toBe("A");
    expect(map.get("c")).toBe("C");
  });

  it("replacing a key keeps one entry for it", () => {
    const map = new BoundedMap<string, number>(3);
    for (let i = 0; i < 10; i++) map.set("same", i);
    expect(map.size).toBe(1);
    expect(map.get("same")).toBe(9);
  });

  it("forgets entries once their time to live has passed", () => {
    const time = clock();
    const map = new BoundedMap<string, string>(10, 30_000, time.now);
    map.set("rules", "r1");
    time.t += 29_999;
    expect(map.get("rules")).toBe("r1");
    time.t += 1;
    expect(map.get("rules")).toBeUndefined();
    expect(map.has("rules")).toBe(false);
    expect(map.size).toBe(0);
  });

  it("takes a time to live per entry", () => {
    const time = clock();
    const map = new BoundedMap<string, string>(10, Number.POSITIVE_INFINITY, time.now);
    map.set("short", "s", 1_000).set("forever", "f");
    time.t += 1_000;
    expect(map.get("short")).toBeUndefined();
    time.t += 10 ** 12;
    expect(map.get("forever")).toBe("f");
  });

  it("drops expired entries at the old end when storing, before the bound is reached", () => {
    const time = clock();
    const map = new BoundedMap<number, number>(1_000, 1_000, time.now);
    for (let i = 0; i < 500; i++) map.set(i, i);
    time.t += 1_000;
    map.set(-1, -1);
    expect(map.size).toBe(1);
  });

  it("lists the live values, least recently used first", () => {
    const time = clock();
    const map = new BoundedMap<string, number>(10, Number.POSITIVE_INFINITY, time.now);
    map.set("a", 1).set("b", 2, 1_000).set("c", 3);
    map.get("a");
    expect(map.values()).toEqual([2, 3, 1]);
    time.t += 1_000;
    expect(map.values()).toEqual([3, 1]);
  });

  it("deletes and clears", () => {
    const map = new BoundedMap<string, number>(5);
    map.set("a", 1).set("b", 2);
    expect(map.delete("a")).toBe(true);
    expect(map.delete("a")).toBe(false);
    map.clear();
    expect(map.size).toBe(0);
  });

  it("refuses a bound that is not a positive integer", () => {
    expect(() => new BoundedMap(0)).toThrow(RangeError);
    expect(() => new BoundedMap(1.5)).toThrow(RangeError);
  });
});
