package dev.l1ra.job;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.l1ra.job.report.RunResult;
import dev.l1ra.model.train.Evaluator;

/** The one-line JSON results the CLI prints last, for scripts and CI. */
final class Summaries {
  private static final ObjectMapper JSON = new ObjectMapper();

  private Summaries() {}

  static String eval(Evaluator.Result r, String model, String adapter, String data) {
    ObjectNode n = JSON.createObjectNode();
    n.put("loss", r.loss());
    n.put("perplexity", r.perplexity());
    n.put("tokens", r.tokens());
    n.put("model", model);
    if (adapter != null) {
      n.put("adapter", adapter);
    }
    n.put("data", data);
    return n.toString();
  }

  /**
   * @param baseline the same-budget LoRA run, or null when there was none
   */
  static String json(RunResult r, RunResult baseline) {
    ObjectNode n = JSON.createObjectNode();
    n.put("run", r.paths().dir().toString());
    n.put("steps", r.summary().steps());
    n.put("final_train_loss", r.summary().finalLoss());
    if (r.baseEval() != null) {
      n.put("base_eval_loss", r.baseEval().loss());
      n.put("base_perplexity", r.baseEval().perplexity());
    }
    if (r.summary().finalEval() != null) {
      n.put("eval_loss", r.summary().finalEval().loss());
      n.put("perplexity", r.summary().finalEval().perplexity());
    }
    n.put("total_rank", r.finalLayout().totalRank());
    n.put("allocation_events", r.allocationEvents());
    n.put("ranks_moved", r.ranksMoved());
    n.put("trainable_parameters", r.finalLayout().parameters());
    n.put("seconds", r.summary().seconds());
    n.put("adapter", r.paths().adapter().toString());
    if (baseline != null && baseline.summary().finalEval() != null) {
      n.put("baseline_total_rank", baseline.finalLayout().totalRank());
      n.put("baseline_eval_loss", baseline.summary().finalEval().loss());
      n.put("baseline_perplexity", baseline.summary().finalEval().perplexity());
    }
    return n.toString();
  }
}
