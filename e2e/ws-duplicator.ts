/**
 * Rewrites the server → client half of a WebSocket tunnel so that every complete text message
 * arrives twice: the kind of repeat a client must drop by seq. The HTTP 101 head passes as it
 * is; after it, frames are parsed (server frames are never masked) and re-emitted whole, so a
 * frame split across TCP chunks is held until complete. Needs an uncompressed connection: the
 * proxy strips `Sec-WebSocket-Extensions` from the upgrade when it duplicates.
 * @param onDuplicate called for each message sent twice
 * @returns a function taking each chunk from the server and returning the bytes to forward
 */
export function createWebSocketDuplicator(onDuplicate: () => void = () => {}): (chunk: Buffer) => Buffer {
  let head = true;
  let pending = Buffer.alloc(0);
  return (chunk) => {
    pending = Buffer.concat([pending, chunk]);
    const out: Buffer[] = [];
    if (head) {
      const end = pending.indexOf('\r\n\r\n');
      if (end < 0) return Buffer.alloc(0);
      out.push(pending.subarray(0, end + 4));
      pending = pending.subarray(end + 4);
      head = false;
    }
    for (;;) {
      const size = frameSize(pending);
      if (size === undefined || pending.length < size) break;
      const frame = pending.subarray(0, size);
      out.push(frame);
      // FIN set and opcode 1: a whole text message in one frame.
      if ((frame[0]! & 0x8f) === 0x81) {
        out.push(frame);
        onDuplicate();
      }
      pending = pending.subarray(size);
    }
    return Buffer.concat(out);
  };
}

/** Total length of the frame at the start of `data`, or undefined while its header is incomplete. */
function frameSize(data: Buffer): number | undefined {
  if (data.length < 2) return undefined;
  const masked = (data[1]! & 0x80) !== 0;
  const short = data[1]! & 0x7f;
  let offset = 2;
  let length = short;
  if (short === 126) {
    if (data.length < 4) return undefined;
    length = data.readUInt16BE(2);
    offset = 4;
  } else if (short === 127) {
    if (data.length < 10) return undefined;
    length = Number(data.readBigUInt64BE(2));
    offset = 10;
  }
  return offset + (masked ? 4 : 0) + length;
}
