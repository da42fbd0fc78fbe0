"""Splink baseline for the linkage benchmark (docs/linkage-notes.md): Splink 4.0.17 + DuckDB, 2
threads, a model comparable to crates/linkage (the same blocking keys, comparison levels and place
and name normalisation; term frequency on the exact name; greedy one-to-one at p >= 0.5).

    pip install "splink==4.0.17" "duckdb==1.5.6" "pypinyin==0.55.0"
    KEEP=/tmp/lists scripts/bench-linkage 1000000        # writes /tmp/lists/1000000{,--hard}/{left,right,truth}.csv
    taskset -c 0,1 /usr/bin/time -f "%e s, %M KB" python3 scripts/splink/run.py /tmp/lists/1000000 /tmp/out
    python3 scripts/splink/score.py /tmp/lists/1000000/truth.csv /tmp/out/1000000-splink-links.csv
"""
import os, sys, time, duckdb, pandas as pd
from pypinyin import lazy_pinyin
import splink.comparison_library as cl, splink.comparison_level_library as cll
from splink import DuckDBAPI, Linker, SettingsCreator, block_on
SURNAME = {"尉迟":"yuchi","万俟":"moqi","长孙":"zhangsun","单":"shan","曾":"zeng","解":"xie","仇":"qiu","区":"ou","查":"zha",
           "朴":"piao","盖":"ge","乐":"yue","缪":"miao","覃":"qin","折":"she","召":"shao","种":"chong","秘":"bi","重":"chong",
           "翟":"zhai","员":"yun","繁":"po"}            # keep equal to crates/domain/src/text.rs SURNAME_READINGS
SUFFIX = ["村民委员会","居民委员会","社区居委会","村委会","居委会","街道办事处","街道","社区","自治县","村","镇","乡","县","区","市"]
def core(s):                                          # same as prepare.rs place_core: suffixes off until none is left
    if not s: return None
    while True:
        x = next((x for x in SUFFIX if s.endswith(x) and len(s) - len(x) >= 2), None)
        if x is None: return s
        s = s[:-len(x)]
def pys(name):                                        # (surname pinyin, whole-name toneless pinyin)
    for s, r in SURNAME.items():
        if name.startswith(s): return r, r + "".join(lazy_pinyin(name[len(s):]))
    p = lazy_pinyin(name) or [name]; return p[0], "".join(p)
def prep(path):
    df = pd.read_csv(path, dtype=str, keep_default_na=False).replace({"": None})
    names = {n: pys(n) for n in df.name.dropna().unique()}          # cache per distinct name
    df["surname_py"] = df.name.map(lambda n: names[n][0] if n else None)
    df["name_py"] = df.name.map(lambda n: names[n][1] if n else None)
    df["name_chars"] = df.name.map(lambda n: list(n) if n else None)
    df["birth_year"] = df.birth_date.str[:4]                         # birth_date assumed YYYY-MM-DD
    df["id_mask"] = df.id_number.map(lambda s: [s[:i] + "_" + s[i+1:17] for i in range(17)] if s and len(s) >= 17 else None)
    for c in ("county", "town", "village"): df[c] = df[c].map(core)
    return df
def log(msg): print(msg, file=sys.stderr, flush=True)

d = os.path.abspath(sys.argv[1]).rstrip("/")
out = os.path.join(sys.argv[2] if len(sys.argv) > 2 else ".", os.path.basename(d) + "-splink-links.csv")
t0 = time.time(); a, b = prep(os.path.join(d, "left.csv")), prep(os.path.join(d, "right.csv"))
con = duckdb.connect(config={"threads": 2, "memory_limit": "12GB", "temp_directory": os.path.join(os.environ.get("TMPDIR", "/tmp"), "splink-duck")})
con.register("a", a); con.register("b", b)
t1 = time.time(); log(f"prep {t1 - t0:.1f}s")
same_place = "coalesce(village_l, town_l, county_l) IS NULL OR coalesce(village_r, town_r, county_r) IS NULL"
settings = SettingsCreator(
    link_type="link_only", unique_id_column_name="record_id",
    blocking_rules_to_generate_predictions=[
        block_on("id_number"), block_on("birth_date", "county"), block_on("surname_py", "village"),
        block_on("name_py", "birth_year"), block_on("id_mask", arrays_to_explode=["id_mask"])],   # exploding rule last
    comparisons=[
        cl.CustomComparison(output_column_name="name", comparison_levels=[
            cll.NullLevel("name"), cll.ExactMatchLevel("name", term_frequency_adjustments=True),
            cll.CustomLevel("name_py_l = name_py_r", "same toneless pinyin"),
            cll.CustomLevel("len(name_chars_l) = len(name_chars_r) AND "
                            "len(list_intersect(name_chars_l, name_chars_r)) >= len(name_chars_l) - 1", "one char different"),
            cll.CustomLevel("jaro_winkler_similarity(name_py_l, name_py_r) >= 0.9", "pinyin JW >= 0.9"),
            cll.ElseLevel()]),
        cl.CustomComparison(output_column_name="birth_date", comparison_levels=[
            cll.NullLevel("birth_date"), cll.ExactMatchLevel("birth_date"),
            cll.CustomLevel("substr(birth_date_l,1,4) = substr(birth_date_r,1,4) AND substr(birth_date_l,6,2) = "
                            "substr(birth_date_r,9,2) AND substr(birth_date_l,9,2) = substr(birth_date_r,6,2)", "day/month swapped"),
            cll.CustomLevel("damerau_levenshtein(birth_date_l, birth_date_r) = 1 OR abs(date_diff('day', "   # ASCII: bytes = chars
                            "try_cast(birth_date_l AS DATE), try_cast(birth_date_r AS DATE))) = 1",
                            "one digit off or one day apart"),
            cll.ElseLevel()]),
        cl.CustomComparison(output_column_name="id_number", comparison_levels=[
            cll.NullLevel("id_number"), cll.ExactMatchLevel("id_number"),
            cll.CustomLevel("damerau_levenshtein(substr(id_number_l,1,17), substr(id_number_r,1,17)) <= 1",
                            "one digit / adjacent swap / check digit"),
            cll.ElseLevel()]),
        cl.ExactMatch("sex"),
        cl.CustomComparison(output_column_name="address", comparison_levels=[
            {"sql_condition": same_place, "label_for_charts": "null", "is_null_level": True},
            cll.CustomLevel("village_l = village_r AND coalesce(town_l = town_r, true) AND coalesce(county_l = county_r, true)", "same village"),
            cll.CustomLevel("town_l = town_r AND coalesce(county_l = county_r, true)", "same town"),
            cll.CustomLevel("county_l = county_r", "same county"), cll.ElseLevel()])])
linker = Linker(["a", "b"], settings, DuckDBAPI(connection=con), input_table_aliases=["a", "b"])
linker.training.estimate_probability_two_random_records_match([block_on("id_number")], recall=0.6)
linker.training.estimate_u_using_random_sampling(max_pairs=1e7, seed=1)
linker.training.estimate_parameters_using_expectation_maximisation(block_on("birth_date", "county"))  # trains name, id, sex
linker.training.estimate_parameters_using_expectation_maximisation(block_on("name_py", "birth_year")) # trains birth, id, sex, address
t2 = time.time(); log(f"training {t2 - t1:.1f}s")
pred = linker.inference.predict(threshold_match_probability=0.5)
t3 = time.time(); log(f"prediction {t3 - t2:.1f}s")
cur = con.execute(f"SELECT record_id_l, record_id_r FROM {pred.physical_name} "
                  "ORDER BY match_weight DESC, record_id_l, record_id_r")
used_l, used_r, links, n_pred = set(), set(), [], 0                  # greedy one-to-one, as our engine does
while rows := cur.fetchmany(100_000):
    n_pred += len(rows)
    for l, r in rows:
        if l not in used_l and r not in used_r: used_l.add(l); used_r.add(r); links.append((l, r))
pd.DataFrame(links, columns=["left", "right"]).to_csv(out, index=False)
t4 = time.time(); log(f"one-to-one {t4 - t3:.1f}s ({n_pred} pairs >= 0.5)")
log(f"{len(links)} links in {t4 - t0:.1f}s -> {out}")
