"""Writes dsp-extra.h5: SciPy outputs for the resampling ratios, windows and filters the two main reference files do not cover.

Run with Debian's python3-scipy (SciPy 1.10.1 here):  /usr/bin/python3 make_dsp_extra.py
"""
import h5py
import numpy as np
import scipy
import scipy.signal as sg

rng = np.random.default_rng(20261122)
fs = 4096
n = fs + 37  # not a multiple of any factor below
t = np.arange(n) / fs
x = rng.standard_normal(n)
x = sg.lfilter([1.0], [1.0, -0.95], x)  # red noise
x += 0.5 * np.sin(2 * np.pi * 60 * t) + 0.2 * np.sin(2 * np.pi * 1500.3 * t)

ops = {}
for up, down in [(3, 7), (147, 160), (16, 1), (5, 2), (1, 3)]:
    ops[f"resample_poly_{up}_{down}"] = (sg.resample_poly(x, up, down), f"scipy.signal.resample_poly(input, up={up}, down={down}), defaults")
ops["resample_poly_1_4_kaiser8"] = (sg.resample_poly(x, 1, 4, window=('kaiser', 8.0)), "scipy.signal.resample_poly(input, up=1, down=4, window=('kaiser', 8.0))")
ops["resample_poly_2_3_hamming"] = (sg.resample_poly(x, 2, 3, window='hamming'), "scipy.signal.resample_poly(input, up=2, down=3, window='hamming')")
taps = sg.firwin(30, 0.2, window='blackman')
ops["resample_poly_1_5_taps30"] = (sg.resample_poly(x, 1, 5, window=taps), "scipy.signal.resample_poly(input, up=1, down=5, window=scipy.signal.firwin(30, 0.2, window='blackman'))")
ops["decimate_fir_3"] = (sg.decimate(x, 3, ftype='fir', zero_phase=True), "scipy.signal.decimate(input, 3, ftype='fir', zero_phase=True)")
sos = sg.butter(16, 300, btype='lowpass', fs=fs, output='sos')
ops["lowpass_300_order16_sosfiltfilt"] = (sg.sosfiltfilt(sos, x), "sos = scipy.signal.butter(16, 300, btype='lowpass', fs=4096, output='sos'); scipy.signal.sosfiltfilt(sos, input)")
sos = sg.butter(5, [20, 500], btype='bandpass', fs=fs, output='sos')
ops["bandpass_20_500_order5_sosfiltfilt"] = (sg.sosfiltfilt(sos, x), "sos = scipy.signal.butter(5, [20, 500], btype='bandpass', fs=4096, output='sos'); scipy.signal.sosfiltfilt(sos, input)")
sos = sg.butter(3, 40, btype='highpass', fs=fs, output='sos')
ops["highpass_40_order3_sosfiltfilt"] = (sg.sosfiltfilt(sos, x), "sos = scipy.signal.butter(3, 40, btype='highpass', fs=4096, output='sos'); scipy.signal.sosfiltfilt(sos, input)")
f, p = sg.welch(x, fs=fs, window='hann', nperseg=1000, noverlap=300, average='median')
ops["asd_welch_median_1000_300"] = (np.sqrt(p), "sqrt of scipy.signal.welch(input, fs=4096, window='hann', nperseg=1000, noverlap=300, average='median'); frequencies 0..2048 Hz step 4.096 Hz")
f, p = sg.welch(x, fs=fs, window='hann', nperseg=1024, noverlap=512, average='mean')
ops["asd_welch_mean_1024_512"] = (np.sqrt(p), "sqrt of scipy.signal.welch(input, fs=4096, window='hann', nperseg=1024, noverlap=512, average='mean'); frequencies 0..2048 Hz step 4 Hz")

with h5py.File("dsp-extra.h5", "w") as h:
    h.attrs["input_sample_rate"] = fs
    h.attrs["scipy_version"] = scipy.__version__
    h.attrs["numpy_version"] = np.__version__
    h.create_dataset("input", data=x)
    for name, (value, op) in ops.items():
        d = h.create_dataset(name, data=value)
        d.attrs["operation"] = op
