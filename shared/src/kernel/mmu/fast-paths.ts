/**
 * Switch for the model's O(1) shortcuts (whole uniform regions in a pass, whole-region CLEARs, a region refaulted
 * while zap-leaf is zapping it). Each shortcut must leave exactly the state, counters and charged costs that the
 * general path leaves; tests run the same scenarios with `enabled = false` and compare.
 */
export const fastPaths = { enabled: true };
