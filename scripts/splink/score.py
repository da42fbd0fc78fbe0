"""Precision, recall and F1 of a links file (left,right) against the truth (left_id,right_id)."""
import sys, csv
truth_path, links_path = sys.argv[1], sys.argv[2]
with open(truth_path) as f: truth = {(r["left_id"], r["right_id"]) for r in csv.DictReader(f)}
with open(links_path) as f: links = {(r["left"], r["right"]) for r in csv.DictReader(f)}
tp = len(truth & links)
p = tp / len(links) if links else 0.0
r = tp / len(truth) if truth else 0.0
f1 = 2 * p * r / (p + r) if p + r else 0.0
print(f"links {len(links)}  truth {len(truth)}  true positives {tp}")
print(f"precision {p:.6f}  recall {r:.6f}  F1 {f1:.6f}")
