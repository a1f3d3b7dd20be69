"""Benchmark cases for chapter 1's other temperature slider (D9) and the hint slider (D5).

Built exactly as notebooks ch1_09 and ch1_04 build them (D5's render there is a
two-bar chart; the same chart is drawn here).
"""
from course_lib import experiments_d as E
from course_lib import temperature_lab as lab
from course_lib.ui import plots, widgets


def _hint_dashboard():
    baseline = E.hint_run(beta=0.0, seed=0)["accuracy"]

    def hint_demo(noise, misaligned, beta):
        return {**E.hint_run(noise=noise, misaligned=misaligned, beta=beta, seed=0), "baseline": baseline}

    def render(res, fig):
        plots.compare(fig.subplots(), ["no hint", "with hint"], [res["baseline"], res["accuracy"]],
                      title="hint", ylabel="test accuracy", ylim=(0.5, 1.0))

    return widgets.Dashboard(hint_demo, {"noise": widgets.slider(0.0, 0.0, 10.0, 0.5),
                                         "misaligned": widgets.slider(0.0, 0.0, 1.0, 0.05),
                                         "beta": widgets.slider(3.0, 0.0, 10.0, 0.5)}, render=render)


def cases():
    d9 = widgets.Dashboard(lambda T: lab.compare_temperature_variants(T, seed=0, example=3),
                           {"T": widgets.slider(4.0, 0.5, 10.0, 0.5)}, render=lab.render, summary=lab.summary,
                           figsize=(10, 3.4))
    return [
        {"case": "temperature_variants_slider_d9", "dashboard": d9,
         "moves": [{"T": 0.5 + (i * 3) % 20 * 0.5} for i in range(24)]},
        {"case": "hint_noise_slider_d5", "dashboard": _hint_dashboard(),
         "moves": [{"noise": (i * 7) % 21 * 0.5} for i in range(24)]},
    ]
