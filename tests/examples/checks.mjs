// The behaviour every metering example must show, asserted the same way for each.
import assert from "node:assert/strict";
import { countOf, getAs } from "./stack.mjs";

/**
 * `userId` is served `limit` times by `url` (a tier of `limit` calls), dream-api counting
 * each call as it happens; the next call is refused with 402, the end-user's usage in
 * its body, and counts nothing. `served(answer, n)` checks the n-th answer further.
 */
export async function assertServedUpToTheLimitThenRefused({ url, apiKey, userId, limit, served = () => {} }) {
  for (let n = 1; n <= limit; n++) {
    const answer = await getAs(url, userId);
    assert.equal(answer.status, 200, `call ${n} is served: ${JSON.stringify(answer.body)}`);
    served(answer, n);
    assert.equal(await countOf(apiKey, userId), n, `call ${n} is counted in dream-api`);
  }
  const refused = await getAs(url, userId);
  assert.equal(refused.status, 402, `the call after the limit is refused: ${JSON.stringify(refused.body)}`);
  assert.equal(refused.body.error, "tier_limit_reached");
  assert.match(refused.body.message, /upgrade/i, "the refusal tells the end-user how to get more");
  assert.deepEqual([refused.body.usage.count, refused.body.usage.limit], [limit, limit]);
  assert.equal(await countOf(apiKey, userId), limit, "the refused call counted nothing");
}
