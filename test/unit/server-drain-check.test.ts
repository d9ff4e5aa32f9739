// A WebSocket client is judged by the pings it answers, not by what waits in the process.
import { describe, expect, it } from 'vitest';
import { DrainCheck } from '../../src/server/drain-check.js';

const settings = { heartbeat: 1000, maxSendBuffer: 1000 };

describe('DrainCheck', () => {
  it('asks for a probe after every maxSendBuffer bytes written since the last ping', () => {
    const check = new DrainCheck(settings);
    expect(check.wrote(600, false, 0)).toBe(false);
    expect(check.wrote(600, false, 0)).toBe(true);
    expect(check.wrote(20, true, 0)).toBe(false);
    expect(check.wrote(999, false, 0)).toBe(false);
  });

  it('a client that stopped reading is stalled a heartbeat after its oldest unanswered ping, once over maxSendBuffer behind', () => {
    const check = new DrainCheck(settings);
    check.wrote(500, false, 0);
    check.wrote(20, true, 0);
    // Not far enough behind yet, however long.
    expect(check.stalled(5000)).toBe(false);
    check.wrote(2000, false, 5000);
    expect(check.stalled(5000)).toBe(true);
  });

  it('a client that answers keeps its connection however much the kernel holds for it', () => {
    const check = new DrainCheck(settings);
    let now = 0;
    for (let i = 0; i < 100; i++) {
      check.wrote(1000, false, now);
      check.wrote(20, true, now);
      now += 900;
      // It answers the previous ping: it reads about maxSendBuffer per heartbeat.
      check.answered(now);
      expect(check.stalled(now)).toBe(false);
    }
  });

  it('counts from the last answer: a slow but steady reader working through a backlog is not stalled', () => {
    const check = new DrainCheck(settings);
    for (let i = 0; i < 5; i++) {
      check.wrote(1000, false, 0);
      check.wrote(20, true, 0);
    }
    // A ping answered every 800 ms: always behind, never stalled.
    for (let t = 800; t <= 3200; t += 800) {
      check.answered(t);
      expect(check.stalled(t + 799)).toBe(false);
    }
    // Then it stops with one ping (over maxSendBuffer) unanswered: a heartbeat after its last answer, it is stalled.
    expect(check.stalled(3200 + 999)).toBe(false);
    expect(check.stalled(3200 + 1000)).toBe(true);
  });
});
