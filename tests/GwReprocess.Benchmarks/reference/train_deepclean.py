"""PyTorch reference for the `train` benchmark: the same DeepClean network, PSD-ratio loss, batch and threads as
`gwrepro-train bench`, timed the same way (2 untimed steps, then N timed). Prints `windows/s X`."""
import sys, time
import torch

witnesses, length, batch, steps, threads = (int(a) for a in sys.argv[1:6])
torch.set_num_threads(threads)
torch.manual_seed(1)


def block(conv, channels):
    return [conv, torch.nn.BatchNorm1d(channels), torch.nn.Tanh()]


layers = block(torch.nn.Conv1d(witnesses, witnesses, 7, 1, 3), witnesses)
c = witnesses
for n in (8, 16, 32, 64):
    layers += block(torch.nn.Conv1d(c, n, 7, 2, 3), n)
    c = n
for n in (32, 16, 8, witnesses):
    layers += block(torch.nn.ConvTranspose1d(c, n, 7, 2, 3, output_padding=1), n)
    c = n
layers.append(torch.nn.Conv1d(witnesses, 1, 7, 1, 3))
net = torch.nn.Sequential(*layers)
net.train()
adam = torch.optim.Adam(net.parameters(), 1e-3)

fft, hop = 2048, 1024
window = 0.5 - 0.5 * torch.cos(2 * torch.pi * torch.arange(fft) / fft)
freqs = torch.arange(fft // 2 + 1) * 4096 / fft
bins = torch.nonzero((freqs >= 55) & (freqs <= 65)).flatten()


def welch(x):
    s = x.unfold(-1, fft, hop)
    s = (s - s.mean(-1, keepdim=True)) * window
    return torch.fft.rfft(s, dim=-1).abs().pow(2).index_select(-1, bins).mean(1)


x = torch.randn(batch, witnesses, length)
y = torch.randn(batch, length)
start = None
for i in range(2 + steps):
    if i == 2:
        start = time.perf_counter()
    adam.zero_grad()
    pred = net(x).squeeze(1)
    loss = (welch(y - pred) / welch(y)).mean()
    loss.backward()
    adam.step()
    loss.item()
print(f"windows/s {steps * batch / (time.perf_counter() - start):.3f} (torch {torch.__version__})")
