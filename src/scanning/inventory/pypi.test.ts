import { describe, expect, it } from "vitest";
import { parsePythonMetadata } from "./pypi";

// requests 2.31.0's METADATA, shortened; its description mentions another version.
const METADATA = `Metadata-Version: 2.1
Name: requests
Version: 2.31.0
Summary: Python HTTP for Humans.
Home-page: https://requests.readthedocs.io
Author: Kenneth Reitz
License: Apache 2.0
        
        Licensed under the Apache License, Version 2.0
Classifier: Programming Language :: Python :: 3
Requires-Python: >=3.7
Description-Content-Type: text/markdown
License-File: LICENSE
Requires-Dist: charset-normalizer (<4,>=2)
Requires-Dist: idna (<4,>=2.5)

# Requests

**Requests** is a simple, yet elegant, HTTP library.

Name: not-requests
Version: 0.0.1
`;

describe("parsePythonMetadata", () => {
  it("reads Name and Version from the headers, not the description", () => {
    const path = "/usr/local/lib/python3.12/site-packages/requests-2.31.0.dist-info/METADATA";
    expect(parsePythonMetadata(METADATA, path)).toEqual([
      { ecosystem: "PyPI", name: "requests", version: "2.31.0", path },
    ]);
  });
  it("keeps the name as written and reads CRLF headers", () => {
    const text = "Metadata-Version: 1.1\r\nName: Flask_Cors\r\nVersion: 4.0.0\r\n\r\nbody";
    expect(parsePythonMetadata(text, "/p")).toEqual([
      { ecosystem: "PyPI", name: "Flask_Cors", version: "4.0.0", path: "/p" },
    ]);
  });
  it("reports nothing when a header is missing, and never throws on junk", () => {
    expect(parsePythonMetadata("Name: x\n\nVersion: 1.0\n", "/p")).toEqual([]);
    expect(parsePythonMetadata("\u0000\u00ff:::\n", "/p")).toEqual([]);
  });
});
