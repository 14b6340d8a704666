"""PyTorch reference for the `train` benchmark's BBHnet rounds: the same network (after its fixed input filter, which training
applies to the data once), binary cross-entropy on logits, batch and threads as `gwrepro-train bench --network bbhnet`, timed
the same way (2 untimed steps, then N timed). Prints `windows/s X`."""
import sys, time
import torch

length, batch, steps, threads = (int(a) for a in sys.argv[1:5])
torch.set_num_threads(threads)
torch.manual_seed(1)

layers = [torch.nn.MaxPool1d(4)]
c, n = 2, length // 4
for out in (8, 16, 32):
    layers += [torch.nn.Conv1d(c, out, 3), torch.nn.BatchNorm1d(out), torch.nn.MaxPool1d(4), torch.nn.ReLU()]
    c, n = out, (n - 2) // 4
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
