/**
 * NAL unit payload → RBSP: removal of emulation_prevention_three_byte
 * (ISO/IEC 14496-10 §7.3.1 and §7.4.1; the same rule in ISO/IEC 23008-2 §7.3.1.1).
 *
 * Inside a NAL unit every `00 00 03` stands for `00 00`: the encoder inserted the `03` so the
 * payload never contains a start code. SPS/VPS parsers read the RBSP, never the raw NAL unit.
 */

/**
 * Return the NAL unit with every emulation-prevention byte removed. When there is none (the
 * common case) the input itself is returned, not a copy; otherwise a new, shorter buffer.
 * Works on a whole NAL unit (header included: a header never contains `00 00 03`).
 */
export function removeEmulationPrevention(nalu: Uint8Array): Uint8Array {
  const n = nalu.length;
  let first = -1;
  for (let i = 2; i < n; i++) {
    if (nalu[i] === 3 && nalu[i - 1] === 0 && nalu[i - 2] === 0) {
      first = i;
      break;
    }
  }
  if (first < 0) return nalu;

  const out = new Uint8Array(n - 1);
  out.set(nalu.subarray(0, first), 0);
  let o = first;
  let zeros = 0; // consecutive zero bytes written since the last removed 03 (or kept non-zero)
  for (let i = first + 1; i < n; i++) {
    const b = nalu[i];
    if (b === 3 && zeros >= 2) {
      zeros = 0; // drop it; the zeros before it no longer count toward the next pattern
      continue;
    }
    out[o++] = b;
    zeros = b === 0 ? zeros + 1 : 0;
  }
  return out.subarray(0, o);
}
