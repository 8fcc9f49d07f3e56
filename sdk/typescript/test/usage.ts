// Compiled (never run) by package.test.mjs: the README's uses of the client typecheck
// against the built declarations, and misuses do not.
import { DreamApi, DreamApiError, type Tier, type TrackResult } from "../dist/index.js";

declare function showUpgrade(reason: string): void;
declare function getToken(): Promise<string | null>;

export async function readme(): Promise<number | null> {
  const dream = new DreamApi({ apiKey: "pk_live_…", baseUrl: "http://127.0.0.1:8787" });
  const tiers: Tier[] = await dream.setTiers([{ id: "free", name: "Free", priceCents: 0, limit: 100 }]);
  const result: TrackResult = await dream.track("user_123", { amount: 2, idempotencyKey: "order-1" });
  if (!result.allowed) {
    showUpgrade(result.reason);
    return result.retryAfterSeconds ?? null;
  }
  if (result.degraded) return result.error.status;
  for await (const user of dream.users({ limit: 100 })) user.usage.remaining;
  const asEndUser = new DreamApi({ token: () => getToken(), baseUrl: "http://127.0.0.1:8787" });
  await asEndUser.track({ idempotencyKey: "click-1" });
  try {
    await dream.setPlan("user_123", tiers[0]!.id);
  } catch (e) {
    if (e instanceof DreamApiError) return e.status;
  }
  return result.usage.remaining;
}

export async function misuse(dream: DreamApi): Promise<number> {
  const unchecked = await dream.track("user_123");
  // @ts-expect-error a denial or a degraded answer may carry no usage: check `allowed` first
  return unchecked.usage.count;
}

// @ts-expect-error baseUrl is required
new DreamApi({ apiKey: "pk_live_…" });
