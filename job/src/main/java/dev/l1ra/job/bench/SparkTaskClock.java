package dev.l1ra.job.bench;

import java.util.Map;
import java.util.Properties;
import java.util.concurrent.ConcurrentHashMap;
import org.apache.spark.executor.TaskMetrics;
import org.apache.spark.scheduler.SparkListener;
import org.apache.spark.scheduler.SparkListenerJobStart;
import org.apache.spark.scheduler.SparkListenerStageCompleted;
import org.apache.spark.scheduler.SparkListenerTaskEnd;
import org.apache.spark.scheduler.StageInfo;
import org.apache.spark.scheduler.TaskInfo;
import scala.collection.Iterator;

/**
 * Spark's own task metrics of each round, summed over the round's tasks (jobs are tagged with a job
 * group per round): where the "transfer" time of {@link DpBench} goes. Listener events arrive
 * asynchronously; read {@link #of} after the run.
 */
final class SparkTaskClock extends SparkListener {
  /** Milliseconds summed over a round's tasks, and its stages' wall time. */
  static final class Sums {
    double stagesWall;
    double deserialize;
    double run;
    double gc;
    double resultSerialize;
    double gettingResult;
    double shuffleWrite;
    double fetchWait;
    long tasks;
    long stages;
  }

  private final Map<Integer, String> stageGroup = new ConcurrentHashMap<>();
  private final Map<String, Sums> sums = new ConcurrentHashMap<>();

  /** The job group that marks a round's jobs. */
  static String group(int round) {
    return "bench-dp-round-" + round;
  }

  Sums of(int round) {
    return sums.computeIfAbsent(group(round), g -> new Sums());
  }

  @Override
  public void onJobStart(SparkListenerJobStart e) {
    Properties p = e.properties();
    String g = p == null ? null : p.getProperty("spark.jobGroup.id");
    if (g != null) {
      Iterator<StageInfo> it = e.stageInfos().iterator();
      while (it.hasNext()) {
        stageGroup.put(it.next().stageId(), g);
      }
    }
  }

  @Override
  public synchronized void onTaskEnd(SparkListenerTaskEnd e) {
    String g = stageGroup.get(e.stageId());
    TaskMetrics m = e.taskMetrics();
    if (g == null || m == null) {
      return;
    }
    Sums s = sums.computeIfAbsent(g, k -> new Sums());
    TaskInfo info = e.taskInfo();
    s.tasks++;
    s.deserialize += m.executorDeserializeTime();
    s.run += m.executorRunTime();
    s.gc += m.jvmGCTime();
    s.resultSerialize += m.resultSerializationTime();
    if (info.gettingResultTime() > 0) {
      s.gettingResult += info.finishTime() - info.gettingResultTime();
    }
    s.shuffleWrite += m.shuffleWriteMetrics().writeTime() / 1e6;
    s.fetchWait += m.shuffleReadMetrics().fetchWaitTime();
  }

  @Override
  public synchronized void onStageCompleted(SparkListenerStageCompleted e) {
    StageInfo si = e.stageInfo();
    String g = stageGroup.get(si.stageId());
    if (g == null || si.submissionTime().isEmpty() || si.completionTime().isEmpty()) {
      return;
    }
    Sums s = sums.computeIfAbsent(g, k -> new Sums());
    s.stages++;
    s.stagesWall += (Long) si.completionTime().get() - (Long) si.submissionTime().get();
  }
}
