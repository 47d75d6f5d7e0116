import { describe, expect, it } from "vitest";
import { parseOsRelease } from "./os-release";

describe("parseOsRelease", () => {
  it("reads Debian's", () => {
    const text = `PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"
NAME="Debian GNU/Linux"
VERSION_ID="12"
VERSION="12 (bookworm)"
VERSION_CODENAME=bookworm
ID=debian
HOME_URL="https://www.debian.org/"
`;
    expect(parseOsRelease(text)).toEqual({
      id: "debian",
      versionId: "12",
      versionCodename: "bookworm",
      prettyName: "Debian GNU/Linux 12 (bookworm)",
    });
  });
  it("reads Alpine's and Ubuntu's, with comments, single quotes and escapes", () => {
    const alpine =
      '# generated\nNAME=\'Alpine Linux\'\nID=alpine\nVERSION_ID=3.19.1\nPRETTY_NAME="Alpine \\"Linux\\" v3.19"\n';
    expect(parseOsRelease(alpine)).toEqual({
      id: "alpine",
      versionId: "3.19.1",
      versionCodename: null,
      prettyName: 'Alpine "Linux" v3.19',
    });
    const ubuntu = 'ID=ubuntu\r\nVERSION_ID="22.04"\r\nUBUNTU_CODENAME=jammy\r\n';
    expect(parseOsRelease(ubuntu)).toMatchObject({ id: "ubuntu", versionId: "22.04", versionCodename: "jammy" });
  });
  it("defaults the ID to linux and survives junk", () => {
    expect(parseOsRelease('\u0000\u0001garbage\n=x\nVERSION_ID="unterminated')).toEqual({
      id: "linux",
      versionId: "unterminated",
      versionCodename: null,
      prettyName: null,
    });
  });
});
