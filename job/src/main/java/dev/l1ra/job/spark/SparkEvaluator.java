package dev.l1ra.job.spark;

import dev.l1ra.core.data.Sample;
import dev.l1ra.job.spark.transport.PayloadDtype;
import dev.l1ra.model.adapter.AdapterSet;
import dev.l1ra.model.train.Evaluator;
import java.util.ArrayList;
import java.util.List;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.broadcast.Broadcast;
import org.apache.spark.storage.StorageLevel;

/** Evaluation as a Spark job: each partition scores its samples, the driver adds the sums. */
public final class SparkEvaluator implements Evaluator, AutoCloseable {
  private final JavaSparkContext sc;
  private final JavaRDD<Sample> samples;
  private final WorkerSpec spec;

  public SparkEvaluator(
      JavaSparkContext sc, JavaRDD<Sample> samples, WorkerSpec spec, int partitions) {
    this.sc = sc;
    this.samples = samples.repartition(partitions).persist(StorageLevel.MEMORY_AND_DISK());
    this.spec = spec;
  }

  @Override
  public Result evaluate(AdapterSet adapters) {
    StepInput in =
        adapters == null
            ? StepInput.baseModel()
            : StepInput.of(-1, adapters, 1, 1, 0, PayloadDtype.FP32, 1);
    Broadcast<StepInput> bc = sc.broadcast(in);
    WorkerSpec ws = spec;
    Result r =
        samples
            .mapPartitions(
                it -> {
                  List<Sample> mine = new ArrayList<>();
                  it.forEachRemaining(mine::add);
                  return List.of(
                          Worker.get(ws).evaluate(bc.value(), mine, ws.microBatch(), ws.padId()))
                      .iterator();
                })
            .reduce(Result::plus);
    bc.destroy();
    return r;
  }

  @Override
  public void close() {
    samples.unpersist(false);
  }
}
