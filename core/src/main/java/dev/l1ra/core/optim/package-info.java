/** Optimizer settings as plain records: what config sections translate to, what the model runs. */
package dev.l1ra.core.optim;
