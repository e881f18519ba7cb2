package dev.l1ra.job;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.l1ra.job.report.RunPaths;
import dev.l1ra.job.report.RunResult;
import dev.l1ra.model.train.Evaluator;
import java.io.IOException;
import java.util.List;

/** The one-line JSON results the CLI prints last, for scripts and CI. */
final class Summaries {
  private static final ObjectMapper JSON = new ObjectMapper();

  private Summaries() {}

  static String eval(Evaluator.Result r, String model, String adapter, String data) {
    ObjectNode n = JSON.createObjectNode();
    n.put("loss", r.loss());
    number(n, "perplexity", r.perplexity());
    n.put("tokens", r.tokens());
    n.put("model", model);
    if (adapter != null) {
      n.put("adapter", adapter);
    }
    n.put("data", data);
    return n.toString();
  }

  /**
   * The line of a finished run left as it was: its folder, outputs and main results as its
   * report.json has them.
   */
  static String finished(RunPaths paths) {
    ObjectNode n = JSON.createObjectNode();
    n.put("run", paths.dir().toString());
    n.put("finished", true);
    try {
      JsonNode rep = JSON.readTree(paths.report().toFile());
      for (String k : List.of("steps", "final_train_loss", "total_rank", "allocation_events")) {
        if (rep.has(k)) {
          n.set(k, rep.get(k));
        }
      }
      JsonNode eval = rep.path("final_eval");
      if (eval.has("perplexity")) {
        n.set("eval_loss", eval.get("loss"));
        n.set("perplexity", eval.get("perplexity"));
      }
    } catch (IOException e) {
      n.put("report_error", e.getMessage());
    }
    n.put("adapter", paths.adapter().toString());
    n.put("report", paths.report().toString());
    return n.toString();
  }

  /** A number, or null when it is not finite (JSON has no NaN; never "NaN" as a string). */
  private static void number(ObjectNode n, String key, double v) {
    if (Double.isFinite(v)) {
      n.put(key, v);
    } else {
      n.putNull(key);
    }
  }

  /**
   * @param baseline the same-budget LoRA run, or null when there was none
   */
  static String json(RunResult r, RunResult baseline) {
    ObjectNode n = JSON.createObjectNode();
    n.put("run", r.paths().dir().toString());
    n.put("steps", r.summary().steps());
    number(n, "final_train_loss", r.summary().finalLoss());
    if (r.baseEval() != null) {
      number(n, "base_eval_loss", r.baseEval().loss());
      number(n, "base_perplexity", r.baseEval().perplexity());
    }
    if (r.summary().finalEval() != null) {
      number(n, "eval_loss", r.summary().finalEval().loss());
      number(n, "perplexity", r.summary().finalEval().perplexity());
    }
    n.put("total_rank", r.finalLayout().totalRank());
    n.put("allocation_events", r.allocationEvents());
    n.put("ranks_moved", r.ranksMoved());
    n.put("trainable_parameters", r.finalLayout().parameters());
    n.put("seconds", r.summary().seconds());
    n.put("adapter", r.paths().adapter().toString());
    if (baseline != null && baseline.summary().finalEval() != null) {
      n.put("baseline_total_rank", baseline.finalLayout().totalRank());
      number(n, "baseline_eval_loss", baseline.summary().finalEval().loss());
      number(n, "baseline_perplexity", baseline.summary().finalEval().perplexity());
    }
    return n.toString();
  }
}
