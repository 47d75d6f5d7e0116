import { describe, expect, it } from "vitest";
import { parseJar, parseProperties } from "./java";

interface Entry {
  name: string;
  data: Uint8Array | string;
  deflate?: boolean;
}

const utf8 = new TextEncoder();

async function deflateRaw(data: Uint8Array): Promise<Uint8Array> {
  const stream = new Blob([data]).stream().pipeThrough(new CompressionStream("deflate-raw"));
  return new Uint8Array(await new Response(stream).arrayBuffer());
}

/** A minimal ZIP writer: local headers, central directory, end record (CRCs left 0: never checked). */
async function zip(entries: Entry[], options: { prefix?: string; count?: number } = {}): Promise<Uint8Array> {
  const locals: Uint8Array[] = [];
  const centrals: Uint8Array[] = [];
  let offset = 0;
  for (const entry of entries) {
    const raw = typeof entry.data === "string" ? utf8.encode(entry.data) : entry.data;
    const data = entry.deflate ? await deflateRaw(raw) : raw;
    const name = utf8.encode(entry.name);
    const local = new Uint8Array(30 + name.length + data.length);
    const lv = new DataView(local.buffer);
    lv.setUint32(0, 0x04034b50, true);
    lv.setUint16(8, entry.deflate ? 8 : 0, true);
    lv.setUint32(18, data.length, true);
    lv.setUint32(22, raw.length, true);
    lv.setUint16(26, name.length, true);
    local.set(name, 30);
    local.set(data, 30 + name.length);
    const central = new Uint8Array(46 + name.length);
    const cv = new DataView(central.buffer);
    cv.setUint32(0, 0x02014b50, true);
    cv.setUint16(10, entry.deflate ? 8 : 0, true);
    cv.setUint32(20, data.length, true);
    cv.setUint32(24, raw.length, true);
    cv.setUint16(28, name.length, true);
    cv.setUint32(42, offset, true);
    central.set(name, 46);
    locals.push(local);
    centrals.push(central);
    offset += local.length;
  }
  const directorySize = centrals.reduce((n, c) => n + c.length, 0);
  const end = new Uint8Array(22);
  const ev = new DataView(end.buffer);
  ev.setUint32(0, 0x06054b50, true);
  ev.setUint16(8, options.count ?? entries.length, true);
  ev.setUint16(10, options.count ?? entries.length, true);
  ev.setUint32(12, directorySize, true);
  ev.setUint32(16, offset, true);
  const parts = [utf8.encode(options.prefix ?? ""), ...locals, ...centrals, end];
  return new Uint8Array(await new Blob(parts).arrayBuffer());
}

const pom = (group: string, artifact: string, version: string) =>
  `#Created by Apache Maven 3.9.5\n#Tue Nov 14 10:02:11 UTC 2023\ngroupId=${group}\nartifactId=${artifact}\nversion=${version}\n`;

const JACKSON = { name: "META-INF/maven/com.fasterxml.jackson.core/jackson-databind/pom.properties", deflate: true };
const LOG4J = "META-INF/maven/org.apache.logging.log4j/log4j-core/pom.properties";

describe("parseJar", () => {
  it("reads every pom.properties of a jar, stored or deflated", async () => {
    const jar = await zip([
      { name: "META-INF/MANIFEST.MF", data: "Manifest-Version: 1.0\r\n", deflate: true },
      { ...JACKSON, data: pom("com.fasterxml.jackson.core", "jackson-databind", "2.15.2") },
      { name: "META-INF/maven/org.apache.logging.log4j/log4j-core/pom.xml", data: "<project/>" },
      { name: LOG4J, data: pom("org.apache.logging.log4j", "log4j-core", "2.14.1") },
      { name: "org/apache/logging/log4j/core/Logger.class", data: new Uint8Array(300), deflate: true },
    ]);
    expect(await parseJar(jar, "/app/app.jar")).toEqual([
      {
        ecosystem: "Maven",
        name: "com.fasterxml.jackson.core:jackson-databind",
        version: "2.15.2",
        path: "/app/app.jar",
      },
      { ecosystem: "Maven", name: "org.apache.logging.log4j:log4j-core", version: "2.14.1", path: "/app/app.jar" },
    ]);
  });
  it("reads the jars bundled one level down (Spring Boot, war, ear), behind a launcher script too", async () => {
    const inner = await zip([{ name: LOG4J, data: pom("org.apache.logging.log4j", "log4j-core", "2.14.1") }]);
    const deeper = await zip([
      { name: "BOOT-INF/lib/inner.jar", data: inner },
      { name: "META-INF/maven/org.yaml/snakeyaml/pom.properties", data: pom("org.yaml", "snakeyaml", "1.33") },
    ]);
    const jar = await zip(
      [
        { name: "BOOT-INF/classes/application.yml", data: "server:\n  port: 8080\n" },
        { name: "BOOT-INF/lib/log4j-core-2.14.1.jar", data: inner },
        { name: "WEB-INF/lib/snakeyaml.jar", data: deeper, deflate: true },
        { name: "BOOT-INF/classes/lib/ignored.jar", data: inner },
        { name: "lib/sub/ignored.jar", data: inner },
      ],
      { prefix: '#!/bin/bash\nexec java -jar "$0" "$@"\n' },
    );
    expect(await parseJar(jar, "/app/app.jar")).toEqual([
      {
        ecosystem: "Maven",
        name: "org.apache.logging.log4j:log4j-core",
        version: "2.14.1",
        path: "/app/app.jar!/BOOT-INF/lib/log4j-core-2.14.1.jar",
      },
      {
        ecosystem: "Maven",
        name: "org.yaml:snakeyaml",
        version: "1.33",
        path: "/app/app.jar!/WEB-INF/lib/snakeyaml.jar",
      },
    ]);
  });
  it("takes coordinates missing from pom.properties from its directory", async () => {
    const jar = await zip([{ name: LOG4J, data: "version=2.17.1\n" }]);
    expect(await parseJar(jar, "/a.jar")).toEqual([
      { ecosystem: "Maven", name: "org.apache.logging.log4j:log4j-core", version: "2.17.1", path: "/a.jar" },
    ]);
  });
  it("reports nothing, never throws, for junk, ZIP64, damaged data and bombs", async () => {
    const good = await zip([{ name: LOG4J, data: pom("g", "a", "1") }]);
    expect(await parseJar(new Uint8Array(0), "/x.jar")).toEqual([]);
    expect(await parseJar(utf8.encode("not a zip at all, just text"), "/x.jar")).toEqual([]);
    expect(await parseJar(good.subarray(0, good.length - 30), "/x.jar")).toEqual([]);
    expect(await parseJar(await zip([{ name: LOG4J, data: pom("g", "a", "1") }], { count: 0xffff }), "/x.jar")).toEqual(
      [],
    );
    const damaged = await zip([{ name: LOG4J, data: pom("g", "a", "1"), deflate: true }]);
    damaged.fill(0xff, 30 + LOG4J.length, 30 + LOG4J.length + 6);
    expect(await parseJar(damaged, "/x.jar")).toEqual([]);
    const bomb = await zip([{ name: LOG4J, data: "version=1\n" + "#".repeat(1_000_000), deflate: true }]);
    expect(await parseJar(bomb, "/x.jar")).toEqual([]);
  });
});

describe("parseProperties", () => {
  it("reads key=value, key: value and key value, skipping comments", () => {
    const properties = parseProperties("# c\n! c\ngroupId = g\r\nartifactId: a\nversion 1.0\nempty=\n");
    expect(Object.fromEntries(properties)).toEqual({ groupId: "g", artifactId: "a", version: "1.0", empty: "" });
  });
});
