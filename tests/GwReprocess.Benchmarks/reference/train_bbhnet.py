"""PyTorch reference for the `train` benchmark's BBHnet rounds: the same network (after its fixed input filter, which training
applies to the data once), binary cross-entropy on logits, batch and threads as `gwrepro-train bench --network bbhnet
--architecture ARCH`, timed the same way (2 untimed steps, then N timed). Prints `windows/s X`.

ARCH: bbhnet (paper-era: max-pool 4 first, kernel 3 blocks of 8/16/32 channels) or bbhnet-deepfiltering (no leading pool;
blocks of kernel 16/8/8, dilation 1/2/2, 16/32/64 channels), as src/GwReprocess/Models/BbhNetArchitecture.cs."""
import sys, time
import torch

if len(sys.argv) != 6:
    sys.exit("usage: train_bbhnet.py LENGTH BATCH STEPS THREADS ARCH (bbhnet or bbhnet-deepfiltering)")
length, batch, steps, threads = (int(a) for a in sys.argv[1:5])
arch = sys.argv[5]
torch.set_num_threads(threads)
torch.manual_seed(1)

if arch == "bbhnet":
    layers, n, blocks = [torch.nn.MaxPool1d(4)], length // 4, [(8, 3, 1), (16, 3, 1), (32, 3, 1)]
elif arch == "bbhnet-deepfiltering":
    layers, n, blocks = [], length, [(16, 16, 1), (32, 8, 2), (64, 8, 2)]
else:
    sys.exit(f"unknown architecture {arch}")
c = 2
for out, kernel, dilation in blocks:
    layers += [torch.nn.Conv1d(c, out, kernel, dilation=dilation), torch.nn.BatchNorm1d(out), torch.nn.MaxPool1d(4), torch.nn.ReLU()]
    c, n = out, (n - dilation * (kernel - 1)) // 4
layers.append(torch.nn.Flatten())
features = c * n
for out in (64, 32):
    layers += [torch.nn.Linear(features, out), torch.nn.ReLU(), torch.nn.Dropout(0.5), torch.nn.BatchNorm1d(out)]
    features = out
layers.append(torch.nn.Linear(features, 1))
net = torch.nn.Sequential(*layers)
net.train()
adam = torch.optim.Adam(net.parameters(), 1e-3)
bce = torch.nn.BCEWithLogitsLoss()

x = torch.randn(batch, 2, length)
y = torch.randint(0, 2, (batch,)).float()
start = None
for i in range(2 + steps):
    if i == 2:
        start = time.perf_counter()
    adam.zero_grad()
    loss = bce(net(x).squeeze(1), y)
    loss.backward()
    adam.step()
    loss.item()
print(f"windows/s {steps * batch / (time.perf_counter() - start):.3f} (torch {torch.__version__})")
