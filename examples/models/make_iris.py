"""Makes the repository's example models from scikit-learn's bundled iris data set (no download).

    .venv/python/bin/python examples/models/make_iris.py [--out examples/models]

Writes, under --out:
  iris-sklearn/   mlflow.sklearn.save_model of a LogisticRegression (flavors sklearn + python_function)
  iris-onnx/      mlflow.onnx.save_model of the same classifier converted by skl2onnx (flavors onnx +
                  python_function); one output, `label`, so every MLflow body format scores it
  expected.json   held-out rows with the classifier's predictions, for tests that check served predictions
  SHA256SUMS      SHA-256 of every file written
Both models share one column signature: sepal_length, sepal_width, petal_length, petal_width (double).
A rerun with the same package versions gives the same weights and predictions; MLmodel's model_uuid and
utc_time_created (and so the files' digests) change on every run.
"""
import argparse
import hashlib
import json
import os
import shutil

import mlflow
import mlflow.onnx
import mlflow.sklearn
import numpy as np
import pandas as pd
import onnx
import onnxruntime
import skl2onnx
import sklearn
from mlflow.models import infer_signature
from skl2onnx import to_onnx
from sklearn.datasets import load_iris
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import train_test_split

COLUMNS = ["sepal_length", "sepal_width", "petal_length", "petal_width"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", default=os.path.dirname(os.path.abspath(__file__)))
    out = parser.parse_args().out

    iris = load_iris(as_frame=True)
    features = iris.data.copy()
    features.columns = COLUMNS
    x_train, x_test, y_train, y_test = train_test_split(
        features, iris.target, test_size=30, random_state=0, stratify=iris.target
    )
    clf = LogisticRegression(max_iter=1000, random_state=0).fit(x_train, y_train)
    accuracy = float(clf.score(x_test, y_test))

    # ONNX: float32 input [N, 4]; zipmap off (plain tensors); only the `label` output is kept, because the
    # MLflow onnx flavor turns each output of a DataFrame request into one column and needs them 1-D.
    onx = to_onnx(clf, x_train.values.astype(np.float32)[:1], options={id(clf): {"zipmap": False}}, target_opset=17)
    kept = [o for o in onx.graph.output if o.name == "label"]
    del onx.graph.output[:]
    onx.graph.output.extend(kept)
    onnx.checker.check_model(onx)

    example = x_test.iloc[:2]
    for name in ("iris-sklearn", "iris-onnx"):
        shutil.rmtree(os.path.join(out, name), ignore_errors=True)
    example_labels = clf.predict(example)
    mlflow.sklearn.save_model(
        clf, os.path.join(out, "iris-sklearn"), input_example=example,
        signature=infer_signature(example, example_labels),
    )
    mlflow.onnx.save_model(
        onx, os.path.join(out, "iris-onnx"), input_example=example,
        signature=infer_signature(example, pd.DataFrame({"label": example_labels})),
        onnx_execution_providers=["CPUExecutionProvider"],
    )

    session = onnxruntime.InferenceSession(onx.SerializeToString(), providers=["CPUExecutionProvider"])
    onnx_labels = session.run(["label"], {"X": x_test.values.astype(np.float32)})[0]
    sk_labels = clf.predict(x_test)
    if not np.array_equal(onnx_labels, sk_labels):
        raise SystemExit("the ONNX export disagrees with scikit-learn on the held-out rows")
    expected = {
        "columns": COLUMNS,
        "rows": x_test.values.tolist(),
        "labels": [int(v) for v in sk_labels],
        "probabilities": [[round(float(p), 6) for p in row] for row in clf.predict_proba(x_test)],
        "classes": [str(c) for c in iris.target_names],
        "heldOutAccuracy": accuracy,
        "versions": {
            "mlflow": mlflow.__version__, "scikit-learn": sklearn.__version__, "skl2onnx": skl2onnx.__version__,
            "onnx": onnx.__version__, "onnxruntime": onnxruntime.__version__, "numpy": np.__version__,
        },
    }
    with open(os.path.join(out, "expected.json"), "w") as f:
        json.dump(expected, f, indent=1)
        f.write("\n")

    sums = []
    for name in ("iris-sklearn", "iris-onnx"):
        for root, _, files in sorted(os.walk(os.path.join(out, name))):
            for file in sorted(files):
                path = os.path.join(root, file)
                with open(path, "rb") as f:
                    sums.append(f"{hashlib.sha256(f.read()).hexdigest()}  {os.path.relpath(path, out)}")
    with open(os.path.join(out, "SHA256SUMS"), "w") as f:
        f.write("\n".join(sums) + "\n")
    print(f"iris: held-out accuracy {accuracy:.3f}; wrote iris-sklearn/, iris-onnx/, expected.json, SHA256SUMS under {out}")


if __name__ == "__main__":
    main()
