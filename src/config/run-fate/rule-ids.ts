/** The rule ids of the run-fate check (docs/rules.md, "What meshctl run does with the config"). */

/** An element meshctl run cannot enforce: run will not start with it (an error no setting turns off). */
export const RUN_REFUSED = 'run-refused';
/** An element meshctl run accepts and does not act on (a warning). */
export const RUN_IGNORED = 'run-ignored';
