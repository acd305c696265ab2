-- Per-layer expert counts and routing entropy over a Parquet dataset that many hosts exported into
-- (analyzer export --format parquet --queue DIR --out DATASET, on each host, into one shared DATASET).
CREATE OR REPLACE TEMPORARY VIEW routes
USING parquet OPTIONS (path '${DATASET}/routes', recursiveFileLookup 'true');

CREATE OR REPLACE TEMPORARY VIEW expert_counts AS
SELECT layer, expert, count(*) AS selections
FROM routes LATERAL VIEW explode(topk_ids) picked AS expert
GROUP BY layer, expert;

SELECT layer, expert, selections FROM expert_counts ORDER BY layer, expert;

SELECT layer, -sum(p * log2(p)) AS entropy_bits
FROM (SELECT layer, selections / sum(selections) OVER (PARTITION BY layer) AS p FROM expert_counts)
GROUP BY layer ORDER BY layer;
